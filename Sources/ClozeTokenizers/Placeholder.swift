import CUTF8Proc

/// Version of the utf8proc library Cloze normalises with.
public func utf8procVersion() -> String { String(cString: utf8proc_version()) }
