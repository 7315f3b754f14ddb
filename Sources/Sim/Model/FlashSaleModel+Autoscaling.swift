extension FlashSaleModel {
    var readyReplicas: Int { replicas.reduce(0) { $0 + ($1.ready ? 1 : 0) } }

    /// One HorizontalPodAutoscaler sync: for each metric desired = ceil(current × value / target)
    /// outside the tolerance, the largest of them (CPU utilisation, and requests in flight per
    /// pod when the HPA has that metric), the stabilisation windows (lowest recent recommendation
    /// for scaling up, highest for scaling down), the scale-up and scale-down policies, and the
    /// replica bounds (the floor raised by a pre-scaling from its time).
    mutating func autoscale() {
        guard let hpa = scenario.autoscaling else { return }
        let now = calendar.now
        var busy = 0.0, capacity = 0.0, inFlight = 0.0, ready = 0
        for i in replicas.indices where replicas[i].ready {
            replicas[i].cpu.advance(to: now)
            replicas[i].http.advance(to: now)
            busy += replicas[i].cpu.busyArea - replicas[i].lastCPUBusyArea
            capacity += Double(scenario.http.coresPerReplica) * Double(now - lastAutoscaleAt)
            inFlight += replicas[i].http.busyArea + replicas[i].http.queueArea - replicas[i].lastInFlightArea
            ready += 1
        }
        for i in replicas.indices {
            replicas[i].lastCPUBusyArea = replicas[i].cpu.busyArea
            replicas[i].lastInFlightArea = replicas[i].http.busyArea + replicas[i].http.queueArea
        }
        let perPodInFlight = ready > 0 && now > lastAutoscaleAt ? inFlight / (Double(ready) * Double(now - lastAutoscaleAt)) : 0
        lastAutoscaleAt = now
        let utilisation = capacity > 0 ? busy / capacity : 0
        stats.hpaUtilisation.set(utilisation, at: now)
        let current = desiredReplicas
        var decision = HPAPolicy.recommend(current: current, utilisation: utilisation, target: hpa.targetUtilization, tolerance: hpa.tolerance)
        if let target = hpa.inFlightTarget {
            decision = max(decision, HPAPolicy.recommend(current: current, utilisation: perPodInFlight, target: target, tolerance: hpa.tolerance))
        }
        recommendations.append((now, decision))
        let window = max(hpa.scaleUpStabilization, hpa.scaleDownStabilization)
        recommendations.removeAll { $0.time < now - window }
        var desired = decision
        if decision > current {
            desired = recommendations.filter { $0.time >= now - hpa.scaleUpStabilization }.map(\.replicas).min() ?? decision
            desired = max(current, min(desired, HPAPolicy.scaleUpLimit(current: current, policies: hpa.scaleUpPolicies, recent: scaleEvents, now: now)))
        } else if decision < current {
            desired = recommendations.filter { $0.time >= now - hpa.scaleDownStabilization }.map(\.replicas).max() ?? decision
            desired = min(current, max(desired, HPAPolicy.scaleDownLimit(current: current, policies: hpa.scaleDownPolicies, recent: scaleDownEvents, now: now)))
        }
        desired = max(hpa.floor(at: now), min(hpa.maxReplicas, desired))
        if desired > current {
            for _ in current..<desired {
                addReplica(ready: false)
                let replica = replicas.count - 1
                setCPU(replica, cores: 0)
                calendar.schedule(after: hpa.podStartup, .podReady(replica: Int32(replica)))
            }
            scaleEvents.append((now, desired - current))
            if stats.firstScaleUpAt == nil { stats.firstScaleUpAt = now }
        } else if desired < current {
            scaleDownEvents.append((now, current - desired))
            var remove = current - desired
            for i in replicas.indices.reversed() where remove > 0 && replicas[i].ready {
                replicas[i].ready = false
                remove -= 1
            }
        }
        desiredReplicas = desired
        stats.desiredSeries.set(Double(desired), at: now)
        stats.maxReplicas = max(stats.maxReplicas, desired)
        if !(arrivalsDone && journeys.live == 0 && requests.live == 0) {
            calendar.schedule(after: hpa.syncPeriod, .autoscale)
        }
    }

    /// A starting pod has no CPU for requests until it is ready.
    mutating func setCPU(_ replica: Int, cores: Int) {
        starting.removeAll(keepingCapacity: true)
        replicas[replica].cpu.setCapacity(cores, at: calendar.now, starting: &starting, expired: &expired)
        for r in starting {
            calendar.schedule(after: scenario.http.cpu[requests[r].op.rawValue].sample(&rCPU), .cpuDone(request: r))
        }
        expired.removeAll(keepingCapacity: true)
    }

    mutating func podReady(_ replica: Int32) {
        let i = Int(replica)
        replicas[i].ready = true
        setCPU(i, cores: scenario.http.coresPerReplica)
        replicas[i].lastCPUBusyArea = replicas[i].cpu.busyArea
        stats.readySeries.set(Double(readyReplicas), at: calendar.now)
    }
}

/// The HPA's arithmetic, separate so tests can check it against the Kubernetes rules.
public enum HPAPolicy {
    /// ceil(current × utilisation / target), or `current` within the tolerance.
    public static func recommend(current: Int, utilisation: Double, target: Double, tolerance: Double) -> Int {
        let ratio = utilisation / target
        if abs(ratio - 1) <= tolerance { return current }
        return max(1, Int((Double(current) * ratio).rounded(.up)))
    }

    /// The most replicas the scale-up policies allow now (the largest of the policies, as with
    /// `selectPolicy: Max`), counting the pods already added within each policy's period.
    public static func scaleUpLimit(current: Int, policies: [Scenario.ScalePolicy], recent: [(time: Int64, replicas: Int)], now: Int64) -> Int {
        var limit = current
        for policy in policies {
            let added = recent.filter { $0.time > now - policy.period }.reduce(0) { $0 + $1.replicas }
            let base = current - added
            let allowed = policy.kind == .pods ? base + policy.value : Int((Double(base) * (1 + Double(policy.value) / 100)).rounded(.up))
            limit = max(limit, allowed)
        }
        return limit
    }

    /// The fewest replicas the scale-down policies allow now (the lowest of the policies, as
    /// with `selectPolicy: Max`), counting the pods already removed within each policy's period.
    public static func scaleDownLimit(current: Int, policies: [Scenario.ScalePolicy], recent: [(time: Int64, replicas: Int)], now: Int64) -> Int {
        var limit = current
        for policy in policies {
            let removed = recent.filter { $0.time > now - policy.period }.reduce(0) { $0 + $1.replicas }
            let base = current + removed
            let allowed = policy.kind == .pods ? base - policy.value : Int((Double(base) * (1 - Double(policy.value) / 100)).rounded(.up))
            limit = min(limit, max(0, allowed))
        }
        return limit
    }
}
