/// Token ids read from a file index the id table and the model's embedding matrix, so they are
/// checked where they are read: a hostile id must neither trap a conversion nor size a table.
enum TokenIDs {
    /// `value` as an id: 0 ≤ id < 2³¹−1, else an error naming the file, the place and the token.
    static func checked(_ value: Int, token: String, file: String, place: String) throws -> Int32 {
        guard value >= 0, value < Int(Int32.max) else {
            throw TokenizerError(file: file, place: place,
                                 "token \(token.debugDescription) has id \(value); ids must be between 0 and \(Int32.max - 1)")
        }
        return Int32(value)
    }

    /// Largest id a vocabulary of `count` tokens may use. Real vocabularies are dense (0..<count,
    /// added tokens just above); the slack allows gaps while keeping the id table proportional to the file.
    static func limit(count: Int) -> Int { 2 * count + 1024 }

    /// Rejects an id beyond `limit(count:)` (naming the token) before the id table is sized by it.
    static func checkDense(modelVocab: [Int32: [UInt8]], added: [AddedToken], file: String) throws {
        let count = Set(modelVocab.keys).union(added.map(\.id)).count
        let limit = limit(count: count)
        if let (id, bytes) = modelVocab.first(where: { Int($0.key) >= limit }) {
            throw tooLarge(id, String(decoding: bytes, as: UTF8.self), count, limit, file)
        }
        if let a = added.first(where: { Int($0.id) >= limit }) { throw tooLarge(a.id, a.content, count, limit, file) }
    }

    private static func tooLarge(_ id: Int32, _ token: String, _ count: Int, _ limit: Int, _ file: String) -> TokenizerError {
        TokenizerError(file: file, place: "token \(token.debugDescription)",
                       "id \(id) is far beyond the \(count) tokens of the vocabulary (ids must be below \(limit)); the file is corrupt or not a vocabulary")
    }
}
