import ClozeTensor
import Foundation

/// What PET and the CLI need from a masked LM, independent of the architecture.
public protocol MaskedLanguageModel: AnyObject {
    var config: ModelConfig { get }
    /// Every tensor once (tied weights appear once), with its Hugging Face name: the checkpoint's,
    /// then those of attached adapters (derived on each call, so adapters added later are included).
    var parameters: [(name: String, tensor: Tensor)] { get }
    /// Where a tensor of `parameters` sits (embeddings, which layer, head, adapter).
    func role(of tensor: Tensor) -> ParameterRole
    /// Every linear layer, named as in Hugging Face: where adapters (LoRA, ...) are attached.
    var linears: [Linear] { get }
    /// Prompt tuning: virtual tokens prepended to every sequence by `encode` (hidden states keep the input layout).
    var softPrompt: SoftPrompt? { get set }
    /// Prefix tuning: trainable keys and values before every sequence's in every applied layer.
    var prefix: PrefixPrompt? { get set }
    /// Transformer layers applied per forward (ALBERT counts a shared layer each time).
    var appliedLayers: Int { get }
    /// False for a bare encoder checkpoint (e.g. BertModel), which cannot produce MLM logits.
    var hasMLMHead: Bool { get }
    /// Final hidden states [B*T, H]. Dropout only when `training` and `rng` is set.
    func encode(_ batch: EncodedBatch, training: Bool, rng: inout SeededRNG?, tape: Tape?) throws -> Tensor
    /// MLM logits at rows `positions` of `hidden` (flat b*T+t): [P, V], or [P, R] for only the
    /// vocabulary rows `vocabularyRows` (e.g. verbalizer tokens). The vocabulary projection is
    /// computed only there.
    func mlmLogits(hidden: Tensor, positions: [Int], vocabularyRows: [Int]?, tape: Tape?) throws -> Tensor
    /// Writes config.json + model.safetensors (F32) in the Hugging Face layout.
    func save(to directory: String, extraParameters: [(name: String, tensor: Tensor)]) throws
}

extension MaskedLanguageModel {
    public func save(to directory: String) throws { try save(to: directory, extraParameters: []) }
}

extension MaskedLanguageModel {
    /// Back to the plain checkpoint: no Linear adapter, soft prompt, prefix or bottleneck adapter.
    public func removeAllAdapters() {
        for l in linears { l.adapter = nil }
        softPrompt = nil; prefix = nil
        if let m = self as? TransformerMaskedLM { for layer in m.layers { layer.attentionAdapter = nil; layer.outputAdapter = nil } }
    }
}
