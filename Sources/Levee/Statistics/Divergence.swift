/// Statistical helpers for decisions that must hold at any traffic volume.
enum Divergence {
    /// Kullback–Leibler divergence between Bernoulli(p) and Bernoulli(q), in nats.
    ///
    /// By the Chernoff bound, the chance that n outcomes drawn at rate q show a rate of p or more
    /// (p > q) is at most exp(-n · KL(p ‖ q)). Comparing n · KL with ln(1/α) is therefore a test of
    /// "the true rate exceeds q" whose false-alarm probability is at most α, valid for 5 samples
    /// or 5 million, with no normal approximation.
    static func bernoulliKL(_ p: Double, _ q: Double) -> Double {
        let q = min(max(q, 1e-12), 1 - 1e-12)
        var divergence = 0.0
        if p > 0 { divergence += p * naturalLog(p / q) }
        if p < 1 { divergence += (1 - p) * naturalLog((1 - p) / (1 - q)) }
        return max(divergence, 0)
    }

    /// Wilson score interval for a proportion `p` observed over `n` samples at normal quantile `z`.
    static func wilsonInterval(_ p: Double, _ n: Double, z: Double) -> ClosedRange<Double> {
        guard n > 0 else { return 0...1 }
        let z2 = z * z
        let center = (p + z2 / (2 * n)) / (1 + z2 / n)
        let halfWidth = z * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot() / (1 + z2 / n)
        return max(0, center - halfWidth)...min(1, center + halfWidth)
    }
}

