import ClozeTensor
import Foundation

/// How position ids are assigned.
public enum PositionScheme: Sendable {
    /// 0, 1, ..., T-1 (BERT, ALBERT, DistilBERT).
    case sequential
    /// RoBERTa/XLM-R: non-padding tokens count up from pad+1, padding tokens get pad
    /// (transformers' create_position_ids_from_input_ids, keyed on input ids == pad id).
    case afterPadding(padId: Int32)
}

/// The shared encoder + MLM head. `BertForMaskedLM`, `RobertaForMaskedLM`, `AlbertForMaskedLM` and
/// `DistilBertForMaskedLM` only differ in how they name and wire these parts.
public class TransformerMaskedLM: MaskedLanguageModel {
    public let config: ModelConfig
    public internal(set) var embeddings: Embeddings
    /// ALBERT's embedding_hidden_mapping_in (E -> H); nil elsewhere.
    let embeddingProjection: Linear?
    /// Distinct layers (ALBERT: one per group × inner layer).
    public let layers: [TransformerLayer]
    /// Index into `layers` for each applied layer, in order (ALBERT repeats shared layers).
    let schedule: [Int]
    public let mlmHead: MLMHead?
    let positionScheme: PositionScheme
    /// The checkpoint's tensors once each (tied tensors appear once), in load order.
    public let baseParameters: [(name: String, tensor: Tensor)]
    /// Every Linear of the model: where adapters are injected.
    public let linears: [Linear]
    /// NF4 layer weights and the f16 word table: frozen, not in `parameters`, written as f32 by `save`.
    let frozenTensors: [(name: String, shape: [Int], values: () -> [Float])]
    /// Where each base tensor sits, for trainability policies.
    let roles: [ObjectIdentifier: ParameterRole]
    /// transformers class name written to config.json by `save` (MLM variant).
    public let className: String
    /// The bare-encoder class name (when there is no MLM head).
    let baseClassName: String

    public var hasMLMHead: Bool { mlmHead != nil }

    /// Base parameters, then every adapter's (PEFT names under the Linear's module name).
    public var parameters: [(name: String, tensor: Tensor)] { baseParameters + adapterParameters }

    /// Prompt tuning's virtual tokens, prepended inside `encode` (nil = none).
    public var softPrompt: SoftPrompt?
    /// Prefix tuning's per-layer keys and values (nil = none).
    public var prefix: PrefixPrompt?

    public var adapterParameters: [(name: String, tensor: Tensor)] {
        linears.flatMap { l in (l.adapter?.parameters ?? []).map { (l.name + "." + $0.name, $0.tensor) } }
            + bottleneckAdapterParameters + (softPrompt?.parameters ?? []) + (prefix?.parameters ?? [])
    }

    public var appliedLayers: Int { schedule.count }

    public func role(of tensor: Tensor) -> ParameterRole {
        roles[ObjectIdentifier(tensor)] ?? ParameterRole(region: .adapter, isBias: false, isBitFitSubsetBias: false)
    }

    /// Embeddings (and ALBERT's projection) first, so a tied decoder counts as an embedding; a shared
    /// ALBERT layer sits at the deepest position the schedule applies it; the rest is MLM head.
    static func parameterRoles(builder b: ParameterBuilder, embeddings: Embeddings, projection: Linear?,
                               layers: [TransformerLayer], schedule: [Int]) -> [ObjectIdentifier: ParameterRole] {
        var region: [ObjectIdentifier: ParameterRole.Region] = [:]
        let embeddingTensors = [embeddings.word, embeddings.position, embeddings.norm.gamma, embeddings.norm.beta]
            + (embeddings.tokenType.map { [$0] } ?? []) + (projection.map { [$0.weight] + ($0.bias.map { [$0] } ?? []) } ?? [])
        for t in embeddingTensors { region[ObjectIdentifier(t)] = .embeddings }
        for (depth, index) in schedule.enumerated() {
            for t in layers[index].tensors { region[ObjectIdentifier(t)] = .layer(depth: depth) }
        }
        let subset = Set(layers.flatMap { [$0.query.bias, $0.ffnIn.bias].compactMap { $0 } }.map(ObjectIdentifier.init))
        var roles: [ObjectIdentifier: ParameterRole] = [:]
        for (_, t) in b.all {
            let id = ObjectIdentifier(t)
            roles[id] = ParameterRole(region: region[id] ?? .mlmHead, isBias: b.biases.contains(id), isBitFitSubsetBias: subset.contains(id))
        }
        return roles
    }

    init(config: ModelConfig, embeddings: Embeddings, embeddingProjection: Linear?, layers: [TransformerLayer],
         schedule: [Int], mlmHead: MLMHead?, positionScheme: PositionScheme,
         builder: ParameterBuilder, className: String, baseClassName: String) {
        self.config = config
        self.embeddings = embeddings
        self.embeddingProjection = embeddingProjection
        self.layers = layers
        self.schedule = schedule
        self.mlmHead = mlmHead
        self.positionScheme = positionScheme
        // Tied tensors appear once.
        var seen = Set<ObjectIdentifier>()
        self.baseParameters = builder.all.filter { seen.insert(ObjectIdentifier($0.tensor)).inserted }
        self.linears = builder.linears
        self.frozenTensors = builder.frozenTensors
        self.roles = Self.parameterRoles(builder: builder, embeddings: embeddings, projection: embeddingProjection,
                                         layers: layers, schedule: schedule)
        self.className = className
        self.baseClassName = baseClassName
    }

    /// Position ids for every token of the batch, checked against the position table.
    func positionIds(_ batch: EncodedBatch) throws -> [Int32] {
        let (b, t) = (batch.batch, batch.seqLen)
        var ids = [Int32](repeating: 0, count: b * t)
        switch positionScheme {
        case .sequential:
            for i in 0..<b { for j in 0..<t { ids[i * t + j] = Int32(j) } }
        case .afterPadding(let pad):
            for i in 0..<b {
                var count: Int32 = 0
                for j in 0..<t {
                    let isToken = batch.inputIds[i * t + j] != pad
                    if isToken { count += 1 }
                    ids[i * t + j] = isToken ? pad + count : pad
                }
            }
        }
        let limit = config.maxPositions
        if let worst = ids.max(), Int(worst) >= limit {
            throw ModelError.input("sequence length \(t) needs position id \(worst) but the model has \(limit) positions (max_position_embeddings); truncate the input")
        }
        return ids
    }

    public func encode(_ batch: EncodedBatch, training: Bool, rng: inout SeededRNG?, tape: Tape?) throws -> Tensor {
        let types = try validate(batch)
        if !batch.softRows.isEmpty {
            // P-tuning's in-pattern virtual tokens: written over their placeholders, nothing prepended.
            guard let prompt = softPrompt else {
                throw ModelError.input("the input has [SOFT] tokens but the model has no soft prompt for them")
            }
            guard batch.softRows.count == batch.softIndex.count, batch.softRows.allSatisfy({ $0 >= 0 && $0 < batch.batch * batch.seqLen }),
                  let top = batch.softIndex.max(), top < prompt.count, batch.softIndex.allSatisfy({ $0 >= 0 }) else {
                throw ModelError.input("the input's [SOFT] tokens need soft prompt rows up to \(batch.softIndex.max() ?? 0) but it has \(prompt.count)")
            }
            return try encodeRows(batch, types: types, soft: (batch.softRows, batch.softIndex, prompt.table(tape: tape)),
                                  training: training, rng: &rng, tape: tape)
        }
        guard let prompt = softPrompt else {
            return try encodeRows(batch, types: types, soft: nil, training: training, rng: &rng, tape: tape)
        }
        // Prompt tuning: n virtual tokens before each sequence, then the caller's [B*T, H] layout back.
        let (b, t, n) = (batch.batch, batch.seqLen, prompt.count)
        let placeholder: Int32 = config.padTokenId == 0 ? 1 : 0   // never the pad id (RoBERTa positions skip pads)
        var ids: [Int32] = [], mask: [Float] = [], wideTypes: [Int32] = [], softRows: [Int] = [], keep: [Int] = []
        for i in 0..<b {
            ids += [Int32](repeating: placeholder, count: n) + batch.inputIds[(i * t)..<((i + 1) * t)]
            mask += [Float](repeating: 1, count: n) + batch.attentionMask[(i * t)..<((i + 1) * t)]
            wideTypes += [Int32](repeating: 0, count: n) + (types.isEmpty ? [Int32](repeating: 0, count: t) : Array(types[(i * t)..<((i + 1) * t)]))
            softRows += (0..<n).map { i * (t + n) + $0 }
            keep += (0..<t).map { i * (t + n) + n + $0 }
        }
        let wide = try EncodedBatch(inputIds: ids, attentionMask: mask, tokenTypeIds: wideTypes, batch: b, seqLen: t + n)
        let hidden = try encodeRows(wide, types: types.isEmpty ? [] : wideTypes, soft: (softRows, softRows.indices.map { $0 % n }, prompt.table(tape: tape)),
                                    training: training, rng: &rng, tape: tape)
        return Ops.gatherRows(hidden, rows: keep, tape: tape)
    }

    /// Checks ids and token types against the tables; returns the token types to embed (none for DistilBERT).
    func validate(_ batch: EncodedBatch) throws -> [Int32] {
        let n = batch.batch * batch.seqLen
        guard batch.inputIds.count == n, batch.attentionMask.count == n, batch.tokenTypeIds.count == n else {
            throw ModelError.input("batch arrays do not hold \(batch.batch)x\(batch.seqLen) values")
        }
        guard n > 0 else { throw ModelError.input("empty batch") }
        let vocab = config.vocabSize
        if let i = batch.inputIds.firstIndex(where: { $0 < 0 || Int($0) >= vocab }) {
            throw ModelError.input("token id \(batch.inputIds[i]) at row \(i) is outside the vocabulary of \(vocab) (is the tokenizer for this model?)")
        }
        guard let table = embeddings.tokenType else { return [] }
        let tv = table.shape[0]
        if let i = batch.tokenTypeIds.firstIndex(where: { $0 < 0 || Int($0) >= tv }) {
            throw ModelError.input("token type id \(batch.tokenTypeIds[i]) at row \(i) is outside type_vocab_size \(tv)")
        }
        return batch.tokenTypeIds
    }

    func encodeRows(_ batch: EncodedBatch, types: [Int32], soft: (rows: [Int], sourceRows: [Int], table: Tensor)?, training: Bool,
                    rng: inout SeededRNG?, tape: Tape?) throws -> Tensor {
        let positions = try positionIds(batch)
        let context = DropoutContext(training: training)
        var x = embeddings.forward(ids: batch.inputIds, positions: positions, tokenTypes: types, soft: soft,
                                   context: context, rng: &rng, tape: tape)
        if let projection = embeddingProjection { x = projection(x, tape: tape) }
        let prefixTable = prefix?.table(tape: tape)
        for (step, index) in schedule.enumerated() {
            let kv = prefixTable.map { prefix!.keyValue($0, step: step, tape: tape) }
            x = layers[index].forward(x, batch: batch.batch, seqLen: batch.seqLen, keyMask: batch.attentionMask,
                                      prefix: kv, dropout: context, rng: &rng, tape: tape)
        }
        return x
    }

    public func mlmLogits(hidden: Tensor, positions: [Int], vocabularyRows: [Int]?, tape: Tape?) throws -> Tensor {
        guard let head = mlmHead else {
            throw ModelError.input("this \(baseClassName) checkpoint has no MLM head; load a *ForMaskedLM checkpoint for MLM logits")
        }
        if embeddings.window != nil && head.tied {
            throw ModelError.input("the tied MLM decoder reads the word table, which a word-row window has taken over; close the window first")
        }
        guard hidden.shape.count == 2, hidden.shape[1] == config.hiddenSize else {
            throw ModelError.input("hidden states must be [B*T, \(config.hiddenSize)], got \(hidden.shape)")
        }
        let rows = hidden.shape[0]
        if let bad = positions.first(where: { $0 < 0 || $0 >= rows }) {
            throw ModelError.input("mask position \(bad) is outside the \(rows) encoded rows")
        }
        if let vocabularyRows, let bad = vocabularyRows.first(where: { $0 < 0 || $0 >= config.vocabSize }) {
            throw ModelError.input("vocabulary row \(bad) is outside the vocabulary of \(config.vocabSize)")
        }
        return head.logits(hidden: hidden, positions: positions, vocabularyRows: vocabularyRows, tape: tape)
    }

    // MARK: saving

    /// Parameters as saved: a tied decoder is not written (transformers re-ties it on load); a bare
    /// encoder is written without the base-model prefix, like `BertModel.save_pretrained`.
    func savedTensors(extra: [(name: String, tensor: Tensor)]) -> [(name: String, shape: [Int], data: [Float])] {
        let prefix = config.architecture.prefix + "."
        var out: [(name: String, shape: [Int], data: [Float])] = []
        var seen = Set<String>()
        // A model saved with adapters attached is saved merged (a plain checkpoint any loader reads).
        var merged: [ObjectIdentifier: [Float]] = [:]
        for l in linears {
            guard let a = l.adapter else { continue }
            merged[ObjectIdentifier(l.weight)] = a.mergedWeight(l)
            if let b = l.bias, let mb = a.mergedBias(l) { merged[ObjectIdentifier(b)] = mb }
        }
        func add(_ name: String, _ shape: [Int], _ data: @autoclosure () -> [Float]) {
            var saved = name
            if mlmHead == nil, name.hasPrefix(prefix) { saved = String(name.dropFirst(prefix.count)) }
            guard seen.insert(saved).inserted else { return }
            out.append((saved, shape, data()))
        }
        for (name, t) in baseParameters + extra { add(name, t.shape, merged[ObjectIdentifier(t)] ?? t.data) }
        // NF4 weights are saved dequantised (merged with their adapter), the f16 table widened: an f32 checkpoint.
        for (name, shape, values) in frozenTensors { add(name, shape, values()) }
        return out
    }

    /// Saves the model and a classification head; config.json gets the head's `id2label` /
    /// `label2id` so transformers' *ForSequenceClassification loads it with the right size.
    public func save(to directory: String, classifier: SequenceClassificationHead) throws {
        try save(to: directory, extraParameters: classifier.parameters, numLabels: classifier.numLabels)
    }

    public func save(to directory: String, extraParameters: [(name: String, tensor: Tensor)]) throws {
        try save(to: directory, extraParameters: extraParameters, numLabels: nil)
    }

    func save(to directory: String, extraParameters: [(name: String, tensor: Tensor)], numLabels: Int?) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw ModelError.io(file: directory, message: "cannot create directory: \(error.localizedDescription)")
        }
        let configPath = (directory as NSString).appendingPathComponent("config.json")
        let name = mlmHead == nil ? baseClassName : className
        var config = self.config
        // Record an explicit untie so transformers does not re-tie a separately trained decoder.
        if let head = mlmHead, !head.tied { config.raw["tie_word_embeddings"] = .bool(false) }
        if let numLabels {
            var id2label: [String: JSONValue] = [:], label2id: [String: JSONValue] = [:]
            for i in 0..<numLabels {
                id2label[String(i)] = .string("LABEL_\(i)")
                label2id["LABEL_\(i)"] = .number(Double(i))
            }
            config.raw["id2label"] = .object(id2label)
            config.raw["label2id"] = .object(label2id)
        }
        do {
            try config.jsonForSave(className: name).write(to: URL(fileURLWithPath: configPath), options: .atomic)
        } catch {
            throw ModelError.io(file: configPath, message: "cannot write config.json: \(error.localizedDescription)")
        }
        try SafeTensorsWriter.write(savedTensors(extra: extraParameters),
                                    to: (directory as NSString).appendingPathComponent("model.safetensors"))
    }
}
