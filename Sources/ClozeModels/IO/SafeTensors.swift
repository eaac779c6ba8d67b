import Foundation

/// A memory-mapped `.safetensors` file: 8-byte little-endian header length, a JSON header
/// `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {..}}`, then the data section
/// (offsets are relative to its start). Everything is validated on open; tensor bytes are converted
/// to Float32 only when a tensor is read.
public final class SafeTensorsFile {
    public enum DType: String, CaseIterable, Sendable {
        case F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8, BOOL
        case F8_E4M3, F8_E5M2
        var byteSize: Int {
            switch self {
            case .F64, .I64, .U64: return 8
            case .F32, .I32, .U32: return 4
            case .F16, .BF16, .I16, .U16: return 2
            case .I8, .U8, .BOOL, .F8_E4M3, .F8_E5M2: return 1
            }
        }
        /// The dtypes Cloze converts to Float32.
        static let readable: [DType] = [.F32, .F16, .BF16]
    }

    public struct Entry: Sendable {
        public let name: String
        public let dtype: DType
        public let shape: [Int]
        /// Byte range inside the data section.
        public let begin: Int, end: Int
        public var elementCount: Int { (end - begin) / dtype.byteSize }  // validated on open: shape product × dtype size
    }

    /// Refuse absurd headers before allocating for them (the reference implementation uses 100 MB).
    static let maxHeaderBytes = 100_000_000

    public let path: String
    public let entries: [String: Entry]
    /// Tensor names in file order (by data offset).
    public let names: [String]
    public let metadata: [String: String]
    private let bytes: Data
    private let dataStart: Int

    public convenience init(path: String) throws {
        if let mapped = Self.mapReadOnly(path) {
            try self.init(data: mapped, path: path)
            releasesReadPages = true
            return
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw ModelError.io(file: path, message: "cannot read safetensors file: \(error.localizedDescription)")
        }
        try self.init(data: data, path: path)
    }

    /// The file mmapped read-only and private (nil if that fails; the caller then reads it normally).
    /// Cloze owns this mapping, so it can hand pages back after reading them (`releasePages`).
    static func mapReadOnly(_ path: String) -> Data? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_size > 0 else { return nil }
        let size = Int(info.st_size)
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else { return nil }
        return Data(bytesNoCopy: base, count: size, deallocator: .custom { p, n in munmap(p, n) })
    }

    /// True when `bytes` is Cloze's own read-only file mapping.
    private var releasesReadPages = false

    /// Drops the whole pages of a just-copied byte range from this process's resident set: the
    /// copy is what the model keeps, so the file pages would otherwise count twice toward peak RSS
    /// while a checkpoint loads (and NF4 loading keeps no f32 copy at all). Reading them again
    /// refaults them from the file (private read-only mapping).
    private func releasePages(_ base: UnsafeRawPointer, from start: Int, count: Int) {
        guard releasesReadPages else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let first = (start + page - 1) / page * page, last = (start + count) / page * page
        guard last > first else { return }
        madvise(UnsafeMutableRawPointer(mutating: base + first), last - first, MADV_DONTNEED)
    }

    public init(data: Data, path: String) throws {
        self.path = path
        self.bytes = data
        let headerLength = try Self.headerLength(data, path: path)
        dataStart = 8 + headerLength
        let headerBytes = data.subdata(in: data.startIndex + 8 ..< data.startIndex + dataStart)
        let header: [String: HeaderValue]
        do {
            header = try JSONDecoder().decode([String: HeaderValue].self, from: headerBytes)
        } catch let error as DecodingError {
            throw Self.failure(path, "header is not valid safetensors JSON: \(Self.describe(error))", offset: 8)
        } catch {
            throw Self.failure(path, "header is not valid JSON (\(error.localizedDescription))", offset: 8)
        }
        var metadata: [String: String] = [:]
        var entries: [String: Entry] = [:]
        for (name, value) in header {
            switch value {
            case .metadata(let m):
                guard name == "__metadata__" else { throw Self.failure(path, "header entry is not {dtype, shape, data_offsets}", tensor: name, offset: 8) }
                metadata = m
            case .entry(let raw):
                guard name != "__metadata__" else { throw Self.failure(path, "__metadata__ must be an object of strings", offset: 8) }
                entries[name] = try Self.entry(name, raw, dataStart: dataStart, fileSize: data.count, path: path)
            }
        }
        let ordered = entries.values.sorted { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        try Self.checkNoOverlap(ordered, dataStart: dataStart, path: path)
        self.entries = entries
        self.names = ordered.map(\.name)
        self.metadata = metadata
    }

    static func failure(_ path: String, _ message: String, tensor: String? = nil, offset: Int? = nil) -> ModelError {
        .safetensors(file: path, tensor: tensor, offset: offset, message: message)
    }

    /// The little-endian u64 that opens the file: the JSON header's byte length, checked against the file size.
    static func headerLength(_ data: Data, path: String) throws -> Int {
        let size = data.count
        guard size >= 8 else {
            throw failure(path, "file is \(size) bytes; a safetensors file starts with an 8-byte header length", offset: 0)
        }
        let headerLength64: UInt64 = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength64 <= UInt64(maxHeaderBytes) else {
            throw failure(path, "header length \(headerLength64) is larger than the \(maxHeaderBytes)-byte limit (corrupt file?)", offset: 0)
        }
        let headerLength = Int(headerLength64)
        guard 8 + headerLength <= size else {
            throw failure(path, "header length \(headerLength) runs past the end of the \(size)-byte file (truncated or corrupt)", offset: 0)
        }
        return headerLength
    }

    /// One header entry checked: known dtype, non-negative shape, a byte range of exactly the shape's size inside the file.
    private static func entry(_ name: String, _ raw: RawEntry, dataStart start: Int, fileSize size: Int, path: String) throws -> Entry {
        guard let dtype = DType(rawValue: raw.dtype) else {
            throw failure(path, "unknown dtype '\(raw.dtype)'", tensor: name, offset: 8)
        }
        let shape = raw.shape
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw failure(path, "'shape' \(shape) has a negative dimension", tensor: name, offset: 8)
        }
        guard raw.data_offsets.count == 2 else {
            throw failure(path, "'data_offsets' must be [begin, end], got \(raw.data_offsets)", tensor: name, offset: 8)
        }
        let (begin, end) = (raw.data_offsets[0], raw.data_offsets[1])
        // Offsets and sizes come from the file: every sum and product below is overflow-checked
        // (a hostile header can hold values near Int.max), error offsets included.
        let at = { (o: Int) in saturatingAdd(start, o) }
        guard begin >= 0, end >= begin else {
            throw failure(path, "data_offsets [\(begin), \(end)] are not an increasing byte range", tensor: name, offset: at(max(begin, 0)))
        }
        guard let bytes = byteCount(shape: shape, elementSize: dtype.byteSize) else {
            throw failure(path, "shape \(shape) of \(raw.dtype) is too large", tensor: name, offset: 8)
        }
        guard end - begin == bytes else {
            throw failure(path, "data_offsets [\(begin), \(end)] hold \(end - begin) bytes but shape \(shape) of \(raw.dtype) needs \(bytes)",
                          tensor: name, offset: at(begin))
        }
        guard end <= size - start else {
            throw failure(path, "data ends at byte \(at(end)) but the file has only \(size) bytes (truncated file)",
                          tensor: name, offset: at(begin))
        }
        return Entry(name: name, dtype: dtype, shape: shape, begin: begin, end: end)
    }

    /// Tensors sorted by begin: no non-empty one may start inside the previous one.
    static func checkNoOverlap(_ ordered: [Entry], dataStart: Int, path: String) throws {
        var previous: Entry?
        for e in ordered where e.end > e.begin {
            if let p = previous, e.begin < p.end {
                throw failure(path, "bytes [\(e.begin), \(e.end)) overlap tensor '\(p.name)' [\(p.begin), \(p.end))",
                              tensor: e.name, offset: dataStart + e.begin)
            }
            previous = e
        }
    }

    /// Bytes of a tensor of `shape`, or nil when the product overflows. A zero dimension makes it 0
    /// whatever the others are.
    static func byteCount(shape: [Int], elementSize: Int) -> Int? {
        if shape.contains(0) { return 0 }
        var total = elementSize
        for d in shape {
            let (p, overflow) = total.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            total = p
        }
        return total
    }

    static func saturatingAdd(_ a: Int, _ b: Int) -> Int {
        let (s, overflow) = a.addingReportingOverflow(b)
        return overflow ? Int.max : s
    }

    private struct RawEntry: Decodable {
        let dtype: String
        let shape: [Int]
        let data_offsets: [Int]
    }

    /// A header value: a tensor entry, or the `__metadata__` string map.
    private enum HeaderValue: Decodable {
        case entry(RawEntry)
        case metadata([String: String])
        init(from decoder: Decoder) throws {
            if let m = try? decoder.singleValueContainer().decode([String: String].self) {
                self = .metadata(m)
            } else {
                self = .entry(try RawEntry(from: decoder))
            }
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ c: DecodingError.Context) -> String {
            let p = c.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
            return p.isEmpty ? c.debugDescription : "at '\(p)': \(c.debugDescription)"
        }
        switch error {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c): return path(c)
        case .keyNotFound(let key, let c): return "missing key '\(key.stringValue)' " + path(c)
        @unknown default: return "\(error)"
        }
    }

    /// The tensor's values converted to Float32 (F32, F16 and BF16 are supported).
    public func floats(_ name: String) throws -> [Float] {
        guard let e = entries[name] else {
            throw ModelError.safetensors(file: path, tensor: name, offset: nil, message: "no tensor of this name in the file")
        }
        return try floats(e)
    }

    public func floats(_ e: Entry) throws -> [Float] {
        let n = e.elementCount
        guard DType.readable.contains(e.dtype) else {
            throw ModelError.safetensors(file: path, tensor: e.name, offset: dataStart + e.begin,
                                         message: "unsupported dtype \(e.dtype.rawValue); Cloze reads F32, F16 and BF16 (convert the checkpoint to one of those)")
        }
        if n == 0 { return [] }
        let start = dataStart + e.begin
        let size = e.dtype.byteSize, chunk = 1 << 21  // elements per step: file pages go back as we go
        return bytes.withUnsafeBytes { raw -> [Float] in
            [Float](unsafeUninitializedCapacity: n) { buf, count in
                for first in stride(from: 0, to: n, by: chunk) {
                    let m = Swift.min(chunk, n - first), src = raw.baseAddress! + start + first * size, dst = buf.baseAddress! + first
                    switch e.dtype {
                    case .F32: UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: 4 * m)
                    case .F16: HalfConversion.f16ToFloat(src, dst, count: m)
                    case .BF16: HalfConversion.bf16ToFloat(src, dst, count: m)
                    default: break  // excluded above
                    }
                    releasePages(raw.baseAddress!, from: start + first * size, count: m * size)
                }
                count = n
            }
        }
    }
}

/// Writes Float32 tensors as a safetensors file (the layout `save_pretrained` produces).
public enum SafeTensorsWriter {
    public static func write(_ tensors: [(name: String, shape: [Int], data: [Float])], metadata: [String: String] = ["format": "pt"],
                             to path: String) throws {
        var header: [String: Any] = ["__metadata__": metadata]
        var offset = 0
        for t in tensors {
            precondition(t.shape.reduce(1, *) == t.data.count, "SafeTensorsWriter: shape/data mismatch for \(t.name)")
            header[t.name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + 4 * t.data.count]] as [String: Any]
            offset += 4 * t.data.count
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Pad the header with spaces so the data section starts 8-byte aligned.
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        for t in tensors { t.data.withUnsafeBytes { out.append(contentsOf: $0) } }
        do {
            try out.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw ModelError.io(file: path, message: "cannot write safetensors file: \(error.localizedDescription)")
        }
    }
}
