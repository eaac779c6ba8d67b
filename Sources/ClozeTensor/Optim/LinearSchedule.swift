/// Hugging Face get_linear_schedule_with_warmup: the learning rate rises linearly from 0 to baseLR over
/// `warmupSteps`, then falls linearly to 0 at `totalSteps`. `lr(atStep: k)` is the rate HF uses for the
/// k-th optimizer step (k = 0, 1, ...; HF calls scheduler.step() after each optimizer.step()).
public struct LinearSchedule: Sendable {
    public let baseLR: Float
    public let warmupSteps: Int
    public let totalSteps: Int

    public init(baseLR: Float, warmupSteps: Int, totalSteps: Int) {
        self.baseLR = baseLR; self.warmupSteps = warmupSteps; self.totalSteps = totalSteps
    }

    public func lr(atStep step: Int) -> Float {
        // Double like Python's floats, so the Float result is the correctly rounded HF value.
        let factor = step < warmupSteps
            ? Double(step) / Double(max(1, warmupSteps))
            : max(0, Double(totalSteps - step) / Double(max(1, totalSteps - warmupSteps)))
        return Float(Double(baseLR) * factor)
    }
}
