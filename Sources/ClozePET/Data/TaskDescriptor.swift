import Foundation

/// A task file in `datasets/<task>.json`: its data files, format, labels, prompts and metric.
public struct TaskDescriptor: Codable, Sendable, Equatable {
    public struct PromptSet: Codable, Sendable, Equatable {
        /// Pattern file, relative to the repository root (the parent of `datasets/`).
        public var patterns: String
        /// Verbalizer file used with every pattern of `patterns`.
        public var verbalizer: String
        public init(patterns: String, verbalizer: String) { self.patterns = patterns; self.verbalizer = verbalizer }
    }
    public enum Metric: String, Codable, Sendable {
        case acc, f1, macroF1 = "macro-f1", mcc, pearson
    }

    public var name: String
    public var description: String?
    /// True for tasks whose files the user supplies (not in ../shared/datasets).
    public var userSupplied: Bool?
    public var format: DataFormat
    /// Split name → path relative to the data root; `{seed}` is replaced by the split seed.
    public var splits: [String: String]
    /// LM-BFF split seeds, when the splits contain `{seed}`.
    public var seeds: [Int]?
    public var labels: [String]
    /// Human-readable label names, same order as `labels`.
    public var labelNames: [String]?
    public var prompts: [PromptSet]
    public var metric: Metric
    /// Positive class for binary F1.
    public var positiveLabel: String?
    public var maxLength: Int?
    public var notes: String?
    /// Unlabelled pool in another file/format, with splits excluded (alternative to `splits.unlabeled`).
    public var unlabeled: UnlabeledPoolSpec?

    /// Where the descriptor was loaded from (not part of the JSON).
    public var path: String = ""
    enum CodingKeys: String, CodingKey {
        case name, description, userSupplied, format, splits, seeds, labels, labelNames, prompts, metric,
             positiveLabel, maxLength, notes, unlabeled
    }

    public init(name: String, format: DataFormat, splits: [String: String], labels: [String], prompts: [PromptSet],
                metric: Metric = .acc, positiveLabel: String? = nil, maxLength: Int? = nil) {
        self.name = name; self.format = format; self.splits = splits; self.labels = labels; self.prompts = prompts
        self.metric = metric; self.positiveLabel = positiveLabel; self.maxLength = maxLength
    }

    /// A task from files named on the command line instead of a `datasets/*.json` descriptor: split
    /// name → data file, and one pattern file with its verbalizer. Relative paths are taken from the
    /// current directory. Checked like a loaded descriptor.
    public static func fromFiles(splits: [String: String], format: DataFormat, labels: [String], patterns: String, verbalizer: String,
                                 metric: Metric = .acc, positiveLabel: String? = nil, maxLength: Int? = nil) throws -> TaskDescriptor {
        let name = URL(fileURLWithPath: splits["train"] ?? "task").deletingPathExtension().lastPathComponent
        var t = TaskDescriptor(name: name, format: format, splits: splits.mapValues(absoluteFromCurrentDirectory), labels: labels,
                               prompts: [PromptSet(patterns: absoluteFromCurrentDirectory(patterns), verbalizer: absoluteFromCurrentDirectory(verbalizer))],
                               metric: metric, positiveLabel: positiveLabel, maxLength: maxLength)
        t.path = "(command line)"
        try t.check()
        return t
    }

    /// A path given on the command line, made absolute against the current directory.
    /// The task with `path` (relative to the current directory) as its unlabelled pool, replacing its own.
    public func withPool(_ path: String) -> TaskDescriptor {
        var t = self
        t.unlabeled = nil
        t.splits["unlabeled"] = Self.absoluteFromCurrentDirectory(path)
        return t
    }

    /// The task with the command line's `--patterns` / `--verbalizer` (paths relative to the current
    /// directory). Both: one prompt set of those files. Only patterns: those patterns with the task's
    /// first verbalizer. Only a verbalizer: every prompt set's patterns with that verbalizer (label
    /// words map labels, so they fit any of the task's patterns).
    /// A task without prompts cannot lend the missing half: that is an error, not an empty path.
    public func withPrompt(patterns: String?, verbalizer: String?) throws -> TaskDescriptor {
        var t = self
        let p = patterns.map(Self.absoluteFromCurrentDirectory), v = verbalizer.map(Self.absoluteFromCurrentDirectory)
        switch (p, v) {
        case let (p?, v?): t.prompts = [PromptSet(patterns: p, verbalizer: v)]
        case let (p?, nil):
            guard let first = prompts.first else {
                throw PETError(.badTaskDescriptor, "task '\(name)' has no verbalizer to pair --patterns with; add --verbalizer FILE", at: SourceLocation(file: path))
            }
            t.prompts = [PromptSet(patterns: p, verbalizer: first.verbalizer)]
        case let (nil, v?):
            guard !prompts.isEmpty else {
                throw PETError(.badTaskDescriptor, "task '\(name)' has no patterns to pair --verbalizer with; add --patterns FILE", at: SourceLocation(file: path))
            }
            t.prompts = prompts.map { PromptSet(patterns: $0.patterns, verbalizer: v) }
        case (nil, nil): break
        }
        return t
    }

    public static func absoluteFromCurrentDirectory(_ p: String) -> String {
        p.hasPrefix("/") ? p : URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(p).standardized.path
    }

    public static func load(path: String) throws -> TaskDescriptor {
        let bytes = try TextFile.readBytes(path: path)
        _ = try TextFile.decodeUTF8(bytes, file: path)
        do {
            var t = try JSONDecoder().decode(TaskDescriptor.self, from: Data(bytes))
            t.path = path
            try t.check()
            return t
        } catch let e as PETError {
            throw e
        } catch let DecodingError.keyNotFound(key, ctx) {
            throw PETError(.badTaskDescriptor, "missing key '\(key.stringValue)'\(Self.where_(ctx))", at: SourceLocation(file: path))
        } catch let DecodingError.dataCorrupted(ctx) {
            throw PETError(.badTaskDescriptor, "invalid JSON or value\(Self.where_(ctx)): \(ctx.debugDescription)", at: SourceLocation(file: path))
        } catch let DecodingError.typeMismatch(_, ctx) {
            throw PETError(.badTaskDescriptor, "wrong type\(Self.where_(ctx)): \(ctx.debugDescription)", at: SourceLocation(file: path))
        } catch {
            throw PETError(.badTaskDescriptor, "cannot read task descriptor: \(error)", at: SourceLocation(file: path))
        }
    }

    private static func where_(_ ctx: DecodingError.Context) -> String {
        ctx.codingPath.isEmpty ? "" : " at " + ctx.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
    }

    func check() throws {
        let loc = SourceLocation(file: path)
        if labels.isEmpty { throw PETError(.badTaskDescriptor, "\"labels\" is empty", at: loc) }
        if Set(labels).count != labels.count { throw PETError(.badTaskDescriptor, "\"labels\" has duplicates", at: loc) }
        if let n = labelNames, n.count != labels.count {
            throw PETError(.badTaskDescriptor, "\"labelNames\" has \(n.count) entries but \"labels\" has \(labels.count)", at: loc)
        }
        if prompts.isEmpty { throw PETError(.badTaskDescriptor, "\"prompts\" is empty: expected at least one {patterns, verbalizer}", at: loc) }
        if metric == .f1 && (positiveLabel.map { !labels.contains($0) } ?? true) {
            throw PETError(.badTaskDescriptor, "metric f1 needs \"positiveLabel\" set to one of the labels", at: loc)
        }
        if metric == .pearson, let bad = labels.first(where: { Double($0) == nil }) {
            throw PETError(.badTaskDescriptor, "metric pearson needs numeric labels (each label's value is weighted by its probability), but label '\(bad)' is not a number", at: loc)
        }
        if format.labelColumn == nil { throw PETError(.badTaskDescriptor, "\"format.labelColumn\" is missing", at: loc) }
        if let u = unlabeled {
            if splits["unlabeled"] != nil {
                throw PETError(.badTaskDescriptor, "both \"splits.unlabeled\" and \"unlabeled\" are set: keep one", at: loc)
            }
            for s in u.exclude ?? [] where splits[s] == nil {
                throw PETError(.badTaskDescriptor, "\"unlabeled.exclude\" names split '\(s)', which is not in \"splits\" (\(splits.keys.sorted().joined(separator: ", ")))", at: loc)
            }
            let aliases = Set((format.columns ?? [:]).keys), poolAliases = Set(((u.format ?? format).columns ?? [:]).keys)
            if !aliases.isSubset(of: poolAliases) {
                throw PETError(.badTaskDescriptor, "\"unlabeled.format.columns\" must map the task's slot names \(aliases.sorted()) (it maps \(poolAliases.sorted()))", at: loc)
            }
        }
    }

    /// Repository root: the parent of the folder holding the descriptor.
    public var repositoryRoot: String {
        URL(fileURLWithPath: path).deletingLastPathComponent().deletingLastPathComponent().path
    }

    /// Absolute path of a pattern/verbalizer file named in the descriptor.
    public func resolveRepositoryPath(_ p: String) -> String {
        p.hasPrefix("/") ? p : URL(fileURLWithPath: repositoryRoot).appendingPathComponent(p).path
    }

    /// Path of a split under `dataRoot` (default `<repo>/../shared/datasets`), with `{seed}` filled in.
    public func splitPath(_ split: String, seed: Int? = nil, dataRoot: String? = nil) throws -> String {
        guard let rel = splits[split] else {
            throw PETError(.badTaskDescriptor, "task '\(name)' has no split '\(split)' (splits: \(splits.keys.sorted().joined(separator: ", ")))",
                           at: SourceLocation(file: path))
        }
        return try dataPath(rel, for: "split '\(split)'", seed: seed, dataRoot: dataRoot)
    }

    /// A data file path from the descriptor (`what` names it in errors), with `{seed}` filled in,
    /// under `dataRoot` unless absolute.
    func dataPath(_ relative: String, for what: String, seed: Int?, dataRoot: String?) throws -> String {
        var rel = relative
        let seeded = relative.contains("{seed}")
        if seeded {
            guard let seed else {
                throw PETError(.badTaskDescriptor, "\(what) of task '\(name)' needs a seed (one of \(seeds ?? []))", at: SourceLocation(file: path))
            }
            rel = rel.replacingOccurrences(of: "{seed}", with: String(seed))
        }
        let root = dataRoot ?? URL(fileURLWithPath: repositoryRoot).appendingPathComponent("../shared/datasets").standardized.path
        let full = rel.hasPrefix("/") ? rel : URL(fileURLWithPath: root).appendingPathComponent(rel).path
        // A seed the task has no split for (LM-BFF made five): say which seeds exist rather than only "file not found".
        if seeded, let seed, let known = seeds, !known.contains(seed), !FileManager.default.fileExists(atPath: full) {
            throw PETError(.fileNotFound, "\(what) of task '\(name)' has no file for seed \(seed) (\(full)); its splits exist for seeds \(known.map(String.init).joined(separator: ",")): pass --seeds from those",
                           at: SourceLocation(file: path))
        }
        return full
    }

    /// Loads one split.
    public func loadSplit(_ split: String, seed: Int? = nil, dataRoot: String? = nil) throws -> Dataset {
        try DatasetLoader.load(path: splitPath(split, seed: seed, dataRoot: dataRoot), format: format, labels: labels)
    }

    /// Whether the task has an unlabelled pool (`splits.unlabeled` or `unlabeled`).
    public var hasUnlabeledPool: Bool { splits["unlabeled"] != nil || unlabeled != nil }

    /// The unlabelled pool for `seed`: the `unlabeled` split in the task's format, or the `unlabeled`
    /// spec's file in its own format with the texts of its `exclude` splits removed. Pool labels are
    /// read only if the pool format names a label column (harvardnlp's label schemes differ from LM-BFF's).
    public func loadUnlabeled(seed: Int? = nil, dataRoot: String? = nil) throws -> (pool: Dataset, removed: Int) {
        guard let spec = unlabeled else {
            let path = try splitPath("unlabeled", seed: seed, dataRoot: dataRoot)
            return (try DatasetLoader.load(path: path, format: format, labels: labels, requireLabels: false), 0)
        }
        let path = try dataPath(spec.path, for: "\"unlabeled.path\"", seed: seed, dataRoot: dataRoot)
        var pool = try DatasetLoader.load(path: path, format: spec.format ?? format, labels: labels, requireLabels: false)
        let slots = (format.columns ?? [:]).keys.sorted()
        var excluded: [Example] = []
        for split in spec.exclude ?? [] { excluded += try loadSplit(split, seed: seed, dataRoot: dataRoot).examples }
        let r = PoolExclusion.remove(excluded, from: pool.examples, slots: slots.isEmpty ? pool.fileColumns : slots)
        pool.examples = r.kept
        guard !pool.examples.isEmpty else {
            throw PETError(.emptyDataset, "the unlabelled pool is empty after removing the \((spec.exclude ?? []).joined(separator: "/")) examples", at: SourceLocation(file: path))
        }
        return (pool, r.removed)
    }

    /// Loads and checks all prompt sets: every pattern's slots against the data's columns, every
    /// verbalizer's labels against the task's labels.
    public func loadPrompts(columns: [String]) throws -> [(patterns: [Pattern], verbalizer: Verbalizer)] {
        try prompts.map { set in
            let patterns = try PatternParser.load(path: resolveRepositoryPath(set.patterns))
            for p in patterns { try p.validate(columns: columns) }
            let v = try Verbalizer.load(path: resolveRepositoryPath(set.verbalizer))
            for e in v.entries where !labels.contains(e.label) {
                throw PETError(.labelNotInData, "label '\(e.label)' is not a label of task '\(name)' (labels: \(labels.joined(separator: ", ")))", at: e.location)
            }
            for l in labels where !v.labels.contains(l) {
                throw PETError(.labelWithoutWords, "task label '\(l)' has no words: add a line '\(l): word'", at: SourceLocation(file: v.file))
            }
            return (patterns, v)
        }
    }
}
