import ArgumentParser
import ClozeModels

/// `--quantize` help, shared by train, fill-mask and label.
let quantizeHelp = "Weight storage of the transformer-layer Linears: none (f32) or nf4 (QLoRA: bitsandbytes NF4, block 64, double-quantised scales; frozen, dequantised on the fly; embeddings, LayerNorms, biases and the MLM head stay f32)."

/// Parses `--quantize`.
func weightQuantization(_ text: String) throws -> WeightQuantization {
    guard let q = WeightQuantization(rawValue: text) else {
        throw ValidationError("--quantize: expected none or nf4, got '\(text)'")
    }
    return q
}
