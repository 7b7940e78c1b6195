"""Lists Unix-only code that is not kept to Unix by a cfg (run by .ci/portability).

A use of std::os::unix, libc::, /proc or /dev/shm in a Rust file is fine when an
enclosing item or block carries #[cfg(unix)], #[cfg(target_os = "linux")] (or another
cfg naming unix or linux) or #[cfg(test)], found by walking out through the braces that
enclose it. Comments are ignored. Exits 1 and names each offending line otherwise.
"""

import pathlib
import re
import sys

UNIX_ONLY = re.compile(r"std::os::unix|\blibc::|\"/proc\b|/proc/|/dev/shm")
KEEPING_CFG = re.compile(r"#\[cfg\((?:[^\]]*\bunix\b|[^\]]*target_os\s*=\s*\"linux\"|test\b)")


def code_of(line):
    """The line without a trailing // comment (strings holding // are rare enough here)."""
    stripped = line.strip()
    if stripped.startswith("//"):
        return ""
    return line


def kept_to_unix(lines, index):
    """Whether the use on lines[index] is inside a block guarded by a keeping cfg."""
    depth = 0
    i = index
    # The line itself may carry the attribute (`#[cfg(unix)] use std::os::unix::…;`).
    if KEEPING_CFG.search(lines[i]):
        return True
    # Attributes directly above a one-line item.
    j = i - 1
    while j >= 0 and lines[j].strip().startswith("#["):
        if KEEPING_CFG.search(lines[j]):
            return True
        j -= 1
    while i >= 0:
        code = code_of(lines[i])
        if i != index:
            depth += code.count("}")
            opened = code.count("{")
            if opened > depth:
                # This line opens a block enclosing the use: look at its attributes.
                j = i
                if KEEPING_CFG.search(lines[j]):
                    return True
                j -= 1
                while j >= 0 and (lines[j].strip().startswith("#[") or lines[j].strip().startswith("///")):
                    if KEEPING_CFG.search(lines[j]):
                        return True
                    j -= 1
                depth = 0
            else:
                depth -= opened
        i -= 1
    return False


def main(root):
    problems = []
    for path in sorted(pathlib.Path(root).rglob("*.rs")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for index, line in enumerate(lines):
            if UNIX_ONLY.search(code_of(line)) and not kept_to_unix(lines, index):
                problems.append(f"{path}:{index + 1}: {line.strip()}")
    for problem in problems:
        print(f"unix-only code outside cfg(unix): {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "src"))
