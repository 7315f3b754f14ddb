/// The stock gate as one Lua script, run with EVALSHA: the Redis twin of the Domain's
/// `StockGate`, kept equal to it by the contract tests (`IntegrationTests/StockLedgerContractTests`).
///
/// KEYS (one deal, all under its hash tag): gate hash, reservations, sold, per buyer (units held
/// as `<user>`, unpaid reservations opened as `u|<user>`, the end of a cool-down as `c|<user>`;
/// `|` is never in a user id), idempotency keys, expiry index, journal; `pay`, `refund` and `cancel` add the keys they also
/// write (below).
/// ARGV: operation, now, the caller's W3C `traceparent` ("" untraced), then the operation's arguments.
///
/// Every operation that changes the gate also appends `{op, at, args, reply}` to the deal's
/// journal stream in the same atomic step: the outbox `OutboxRelay` carries to Kafka, so a change
/// Redis made can never miss the event stream (see `docs/flows.md`).
/// Instants are nanoseconds since the epoch written as 20-digit zero-padded strings, compared
/// as strings (they exceed Lua's exact integers); the expiry index scores in milliseconds.
enum StockGateScript {
    static let source = RedisOrderRepository.documentFunctions + #"""
    -- ARGV[3] is the caller's W3C traceparent ('' untraced), kept on every stream entry this
    -- change writes (field `tp`) so the relay and the writer join the request's trace; the
    -- operation's own arguments follow it and are renumbered from 3 here.
    local tp = ARGV[3]
    local ARGV = {ARGV[1], ARGV[2], unpack(ARGV, 4)}
    local function xadd(key, ...)
      if tp ~= '' then return redis.call('XADD', key, '*', 'tp', tp, ...) end
      return redis.call('XADD', key, '*', ...)
    end
    local gate, res, sold, hold, keys, exp, journal = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
    local op, now = ARGV[1], ARGV[2]
    -- The reply of each operation that changed the gate.
    local changes = {create = 'created', reserve = 'reserve', confirm = {confirm = true, expire = true}, release = 'release',
      expire = 'expire', ['return'] = 'returned', restock = 'restocked', start = 'started', ['end'] = 'ended'}

    local function split(s)
      local t = {}
      for part in string.gmatch(s, '[^|]+') do t[#t + 1] = part end
      return t
    end
    local function num(field) return tonumber(redis.call('HGET', gate, field)) end
    -- An instant plus a duration of `d` nanoseconds, exactly (the instant's digits exceed Lua's
    -- exact integers; its seconds and nanoseconds apart do not).
    local function later(t, d)
      local nanos = tonumber(string.sub(t, 12, 20)) + d % 1000000000
      local secs = tonumber(string.sub(t, 1, 11)) + math.floor(d / 1000000000) + math.floor(nanos / 1000000000)
      return string.format('%011d%09d', secs, nanos % 1000000000)
    end
    local function bump(field) return redis.call('HINCRBY', gate, field, 1) end
    local function drop_holding(user, qty)
      local left = tonumber(redis.call('HGET', hold, user) or '0') - qty
      if left == 0 then redis.call('HDEL', hold, user) else redis.call('HSET', hold, user, left) end
    end
    -- A release, expiry, return or restock: a sold-out deal reopens.
    local function replenish()
      if redis.call('HGET', gate, 'status') == 'soldOut' then
        redis.call('HSET', gate, 'status', 'live')
        return 'reopened', bump('dv')
      end
      return '', 0
    end
    -- An order's units from `from` (reservations or sold, counted in `field`) back on the shelf.
    local function put_back(from, field, order, user, qty)
      redis.call('HDEL', from, order)
      redis.call('HINCRBY', gate, field, -qty)
      redis.call('HINCRBY', gate, 'available', qty)
      drop_holding(user, qty)
      local iv = bump('iv')
      local deal_event, dv = replenish()
      return iv, deal_event, dv
    end
    local function give_back(order, r)
      local qty = tonumber(r[2])
      redis.call('ZREM', exp, order)
      return qty, put_back(res, 'reserved', order, r[1], qty)
    end
    local function confirm(order)
      local found = redis.call('HGET', res, order)
      if not found then
        if redis.call('HEXISTS', sold, order) == 1 then return {'alreadyConfirmed'} end
        return {'notReserved'}
      end
      local r = split(found)
      if now >= r[3] then
        local qty, iv, deal_event, dv = give_back(order, r)
        return {'expire', qty, iv, deal_event, dv}
      end
      local qty = tonumber(r[2])
      redis.call('HDEL', res, order)
      redis.call('ZREM', exp, order)
      redis.call('HSET', sold, order, r[1] .. '|' .. qty)
      -- Paid: no longer one of the buyer's unpaid reservations.
      if redis.call('HINCRBY', hold, 'u|' .. r[1], -1) <= 0 then redis.call('HDEL', hold, 'u|' .. r[1]) end
      redis.call('HINCRBY', gate, 'reserved', -qty)
      redis.call('HINCRBY', gate, 'sold', qty)
      return {'confirm', qty, bump('iv')}
    end

    -- The units sold to an order put back on the shelf (a refund).
    local function return_sold(order)
      local found = redis.call('HGET', sold, order)
      if not found then return {'none'} end
      local s = split(found)
      local qty = tonumber(s[2])
      local iv, deal_event, dv = put_back(sold, 'sold', order, s[1], qty)
      return {'returned', qty, iv, deal_event, dv}
    end

    local function release(order, lapsed_only)
      local found = redis.call('HGET', res, order)
      if not found then return {'none'} end
      local r = split(found)
      if lapsed_only and r[3] > now then return {'none'} end
      local cool = num('cool') or 0
      if not lapsed_only and cool > 0 then redis.call('HSET', hold, 'c|' .. r[1], later(now, cool)) end
      local qty, iv, deal_event, dv = give_back(order, r)
      return {lapsed_only and 'expire' or 'release', qty, iv, deal_event, dv}
    end

    local function run()
    if op == 'create' then
      if redis.call('EXISTS', gate) == 1 then return {'exists'} end
      redis.call('HSET', gate, 'status', 'scheduled', 'starts', ARGV[3], 'ends', ARGV[4], 'limit', ARGV[5],
        'total', ARGV[6], 'available', ARGV[6], 'reserved', 0, 'sold', 0, 'iv', 1, 'dv', 1, 'cap', ARGV[7] or 0, 'cool', ARGV[8] or 0)
      return {'created'}
    end
    if redis.call('EXISTS', gate) == 0 then return {'unknown'} end

    if op == 'reserve' then
      local order, user, qty, key, expires = ARGV[3], ARGV[4], tonumber(ARGV[5]), ARGV[6], ARGV[7]
      local first = redis.call('HGET', keys, user .. '|' .. key)
      if first then
        local f = split(first)
        return {'duplicate', f[1], f[2], f[3], f[4]}
      end
      local status = redis.call('HGET', gate, 'status')
      local starts, ends = redis.call('HGET', gate, 'starts'), redis.call('HGET', gate, 'ends')
      if status ~= 'live' or now < starts or now >= ends then
        if status ~= 'ended' and now >= ends then status = 'ended' end
        return {'notActive', status}
      end
      local limit = num('limit')
      if qty < 1 or qty > limit then return {'invalid'} end
      local cooling = redis.call('HGET', hold, 'c|' .. user)
      if cooling and now < cooling then return {'coolingDown', cooling} end
      local cap = num('cap') or 0
      if cap > 0 and tonumber(redis.call('HGET', hold, 'u|' .. user) or '0') >= cap then return {'capReached', cap} end
      local remaining = limit - tonumber(redis.call('HGET', hold, user) or '0')
      if qty > remaining then return {'limit', math.max(0, remaining)} end
      local available = num('available')
      if qty > available then return {'soldOut', available} end
      redis.call('HSET', res, order, user .. '|' .. qty .. '|' .. expires)
      redis.call('HSET', keys, user .. '|' .. key, order .. '|' .. qty .. '|' .. now .. '|' .. expires)
      redis.call('ZADD', exp, math.floor(tonumber(expires) / 1000000), order)
      redis.call('HINCRBY', hold, user, qty)
      redis.call('HINCRBY', hold, 'u|' .. user, 1)
      redis.call('HINCRBY', gate, 'available', -qty)
      redis.call('HINCRBY', gate, 'reserved', qty)
      local iv = bump('iv')
      if available == qty then
        redis.call('HSET', gate, 'status', 'soldOut')
        return {'reserve', iv, 'soldOut', bump('dv')}
      end
      return {'reserve', iv, '', 0}
    end

    if op == 'confirm' then return confirm(ARGV[3]) end

    if op == 'pay' or op == 'refund' then
      -- A payment's completion or an order's refund (RedisCheckoutSteps), with the order and
      -- payment saved at their expected versions, their events put in the outbox and the claims
      -- settled in the same step. A version race changes nothing. `pay` confirms the units and
      -- writes the rest only when they are (or already were) confirmed; `refund` returns the units
      -- when they are still sold to the order and writes the rest either way.
      -- KEYS[8..11]: order, payment, pending claims, outbox; KEYS[12..]: the claims to settle.
      -- ARGV[4..11]: for the order then the payment, expected version, version, JSON ('' none), ttl (ms);
      -- ARGV[12]: events JSON ('' none); ARGV[13]: the claims' ttl (s); then per claim, result ('' removes) and listing.
      local docs = {{KEYS[8], ARGV[4], ARGV[5], ARGV[6], ARGV[7]}, {KEYS[9], ARGV[8], ARGV[9], ARGV[10], ARGV[11]}}
      for _, d in ipairs(docs) do
        local conflict = d[4] ~= '' and stale(d[1], d[2])
        if conflict then return conflict end
      end
      local reply
      if op == 'pay' then
        reply = confirm(ARGV[3])
        if reply[1] ~= 'confirm' and reply[1] ~= 'alreadyConfirmed' then return reply end
      else
        reply = return_sold(ARGV[3])
      end
      for _, d in ipairs(docs) do
        if d[4] ~= '' then save(d[1], d[3], d[4], d[5]) end
      end
      if ARGV[12] ~= '' then xadd(KEYS[11], 'events', ARGV[12]) end
      for i = 12, #KEYS do
        local result, listing = ARGV[14 + (i - 12) * 2], ARGV[15 + (i - 12) * 2]
        if result == '' then redis.call('DEL', KEYS[i]) else redis.call('SET', KEYS[i], result, 'EX', ARGV[13]) end
        redis.call('ZREM', KEYS[10], listing)
      end
      return reply
    end

    if op == 'release' or op == 'expire' then return release(ARGV[3], op == 'expire') end

    if op == 'cancel' then
      -- An order's cancellation (RedisCheckoutSteps): the release and, only when it released the
      -- units, the order saved at its expected version and its event put in the outbox. A version
      -- race changes nothing. KEYS[8], KEYS[9]: the order, the outbox. ARGV[4..7]: the order's
      -- expected version, version, JSON and ttl (ms); ARGV[8]: the events' JSON ('' none).
      local conflict = stale(KEYS[8], ARGV[4])
      if conflict then return conflict end
      local reply = release(ARGV[3], false)
      if reply[1] ~= 'release' then return reply end
      save(KEYS[8], ARGV[5], ARGV[6], ARGV[7])
      if ARGV[8] ~= '' then xadd(KEYS[9], 'events', ARGV[8]) end
      return reply
    end

    if op == 'return' then return return_sold(ARGV[3]) end

    if op == 'restock' then
      local qty = tonumber(ARGV[3])
      if redis.call('HGET', gate, 'status') == 'ended' then return {'ended'} end
      local room = 2147483647 - num('total')
      if qty < 1 or qty > room then return {'invalid', room} end
      redis.call('HINCRBY', gate, 'total', qty)
      redis.call('HINCRBY', gate, 'available', qty)
      local iv = bump('iv')
      local deal_event, dv = replenish()
      return {'restocked', qty, iv, deal_event, dv}
    end

    if op == 'start' then
      if redis.call('HGET', gate, 'status') ~= 'scheduled' then return {'none'} end
      redis.call('HSET', gate, 'status', 'live')
      local dv = bump('dv')
      if num('available') == 0 then
        redis.call('HSET', gate, 'status', 'soldOut')
        return {'started', dv, 'soldOut', bump('dv')}
      end
      return {'started', dv, '', 0}
    end

    if op == 'end' then
      if redis.call('HGET', gate, 'status') == 'ended' then return {'none'} end
      redis.call('HSET', gate, 'status', 'ended')
      return {'ended', bump('dv')}
    end

    return redis.error_reply('unknown stock gate operation ' .. op)
    end

    local reply = run()
    -- A payment's completion is journalled as the confirmation it made, a cancellation as its
    -- release, a refund as its return (their order and payment events went to the outbox).
    local jop, jargs = op, {unpack(ARGV, 3)}
    if op == 'pay' then jop, jargs = 'confirm', {ARGV[3]} end
    if op == 'cancel' then jop, jargs = 'release', {ARGV[3]} end
    if op == 'refund' then jop, jargs = 'return', {ARGV[3]} end
    local change = changes[jop]
    if reply[1] and (change == reply[1] or (type(change) == 'table' and change[reply[1]])) then
      xadd(journal, 'op', jop, 'at', now, 'args', cjson.encode(jargs), 'reply', cjson.encode(reply))
    end
    return reply
    """#
}
