#!/usr/bin/env python3
"""Where the browser bundle's code goes: function body bytes per crate.

Reads the WASM as rustc leaves it, before wasm-bindgen and wasm-opt strip
its `name` section (after `cargo leptos build --release`):
    scripts/wasm-breakdown.py [target/front/wasm32-unknown-unknown/wasm-release/frontend.wasm]
Names are demangled with c++filt (binutils). A generic function counts for
the crate of its implementing type, or of the trait for `<T as Trait>`.
"""

import collections
import re
import subprocess
import sys

DEFAULT = "target/front/wasm32-unknown-unknown/wasm-release/frontend.wasm"


def leb128(data, at):
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, at


def function_sizes(data):
    """(name, body bytes) for every function defined in the module."""
    at, imported, names, sizes = 8, 0, {}, []
    while at < len(data):
        section, at = data[at], at + 1
        size, at = leb128(data, at)
        start, at = at, at + size
        pos = start
        if section == 2:  # imports: functions among them shift the indices
            count, pos = leb128(data, pos)
            for _ in range(count):
                for _field in range(2):
                    length, pos = leb128(data, pos)
                    pos += length
                kind, pos = data[pos], pos + 1
                if kind == 0:
                    imported += 1
                    _, pos = leb128(data, pos)
                elif kind == 1:  # table: element type, limits
                    flags, pos = leb128(data, pos + 1)
                    _, pos = leb128(data, pos)
                    if flags & 1:
                        _, pos = leb128(data, pos)
                elif kind == 2:  # memory: limits
                    flags, pos = leb128(data, pos)
                    _, pos = leb128(data, pos)
                    if flags & 1:
                        _, pos = leb128(data, pos)
                elif kind == 3:  # global: type, mutability
                    pos += 2
        elif section == 10:
            count, pos = leb128(data, pos)
            for _ in range(count):
                length, pos = leb128(data, pos)
                sizes.append(length)
                pos += length
        elif section == 0:
            length, pos = leb128(data, pos)
            if data[pos:pos + length] == b"name":
                pos += length
                while pos < start + size:
                    kind, pos = data[pos], pos + 1
                    length, pos = leb128(data, pos)
                    if kind == 1:  # function names
                        entry = pos
                        count, entry = leb128(data, entry)
                        for _ in range(count):
                            index, entry = leb128(data, entry)
                            name_length, entry = leb128(data, entry)
                            names[index] = data[entry:entry + name_length].decode("utf8", "replace")
                            entry += name_length
                    pos += length
    return [(names.get(imported + i, "?"), size) for i, size in enumerate(sizes)]


def crate_of(name):
    name = re.sub(r"\[[0-9a-f]+\]", "", name)
    if name.startswith("<"):
        implementor = re.match(r"[<&*]*(?:mut |dyn |const )*([A-Za-z_]\w*)", name)
        crate = implementor.group(1) if implementor else "?"
        if crate[0].isupper() or crate in ("core", "alloc", "std"):
            trait = re.search(r" as ([A-Za-z_]\w*)::", name)
            crate = trait.group(1) if trait else crate
        return crate
    plain = re.match(r"([A-Za-z_]\w*)", name)
    return plain.group(1) if plain else "?"


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else DEFAULT
    functions = function_sizes(open(path, "rb").read())
    demangled = subprocess.run(
        ["c++filt"], input="\n".join(name for name, _ in functions), capture_output=True, text=True, check=True
    ).stdout.split("\n")
    per_crate = collections.Counter()
    for name, (_, size) in zip(demangled, functions):
        per_crate[crate_of(name)] += size
    total = sum(per_crate.values())
    print(f"{len(functions)} functions, {total:,} bytes of code (before wasm-opt)")
    for crate, size in per_crate.most_common(20):
        print(f"{size:>10,} {100 * size / total:5.1f} %  {crate}")


if __name__ == "__main__":
    main()
