/// Inputs without a pattern for sequence classifiers: `[CLS] text_a [SEP]` or
/// `[CLS] text_a [SEP] text_b [SEP]`, both slots shortenable (mask position -1 = none).
public enum PlainInput {
    public static func builder(columns: [String], vocabulary: any TokenVocabulary, maxLength: Int) -> PETInputBuilder {
        let segments = columns.prefix(2).map { [Pattern.Element(.slot(name: $0, shortenable: true), spaceBefore: false, column: 1)] }
        return PETInputBuilder(pattern: Pattern(segments: Array(segments), location: SourceLocation(file: "<plain input>"),
                                                source: columns.prefix(2).map { "{\($0):shorten}" }.joined(separator: " [SEP] ")),
                               vocabulary: vocabulary, maxLength: maxLength)
    }
}
