# Sourced by the scripts that run `flashdeal serve` under k6 or a fuzzer (bench-live and validate
# through live-server.sh, chaos, loadtest, fuzz): the servers verify tokens with a secret of this
# run's own (unless one is set), which k6 signs its buyers' tokens with (k6/lib/shop.js reads
# FLASHDEAL_AUTH_SECRET) and `flashdeal token` the admin's; and k6 names each buyer's synthetic
# address in X-Forwarded-For, as a load balancer would, so the per-address buckets see many
# clients instead of k6's one loopback address.
export FLASHDEAL_AUTH_SECRET=${FLASHDEAL_AUTH_SECRET:-$(python3 -c 'import secrets; print(secrets.token_urlsafe(36))')}
export FLASHDEAL_LIMITS_CLIENT_ADDRESS_HEADER=X-Forwarded-For
