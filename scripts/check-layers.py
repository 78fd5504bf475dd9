#!/usr/bin/env python3
"""Checks that server/'s folders include only what their libraries link.

Each folder of server/ is one static library (its CMakeLists.txt). A file may
include a header of its own folder, or of a folder whose library its library
links, directly or through others. A static library links nothing by itself,
so without this check a header of a higher layer could be included and its
symbols left for the final executable to find. And no service of api/
includes another's header. Prints every include that breaks a rule, or the
layers as CMake declares them.

Usage: scripts/check-layers.py [repository root]
"""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else
                    pathlib.Path(__file__).resolve().parent.parent)
server = root / "server"

# Every library a CMakeLists.txt of server/ defines, with its folder and the
# libraries it links.
folder_of = {}
links = {}
for cmake in sorted(server.rglob("CMakeLists.txt")):
    text = re.sub(r"#.*", "", cmake.read_text())
    folder = cmake.parent.relative_to(server).as_posix()
    for name in re.findall(r"add_library\(\s*(\w+)", text):
        folder_of[name] = folder
        links.setdefault(name, set())
    for name, deps in re.findall(r"target_link_libraries\(\s*(\w+)([^)]*)\)",
                                 text):
        links.setdefault(name, set()).update(re.findall(r"[\w:]+", deps))

# Folder -> folders it may include: its own, and those of every library its
# libraries reach.
def reach(lib, seen):
    for dep in links.get(lib, ()):
        if dep in folder_of and dep not in seen:
            seen.add(dep)
            reach(dep, seen)
    return seen

may = {}
for lib, folder in folder_of.items():
    allowed = may.setdefault(folder, {folder})
    allowed.update(folder_of[d] for d in reach(lib, set()))

def folder_of_file(path):
    rel = path.parent.relative_to(server).as_posix()
    return "." if rel == "" else rel

include = re.compile(r'^#include "server/(.+)/[^/]+\.h"', re.M)
bad = []
checked = 0
for path in sorted(list(server.rglob("*.cc")) + list(server.rglob("*.h"))):
    folder = folder_of_file(path)
    if folder not in may:
        bad.append(f"{path.relative_to(root)}: its folder has no library")
        continue
    for target in include.findall(path.read_text()):
        checked += 1
        if target not in may[folder]:
            bad.append(f"{path.relative_to(root)}: includes server/{target}/, "
                       f"which {folder}'s library does not link")

# The services of api/ lend each other nothing: what two of them share lives
# in a layer below (or in api/unary_call.h), not in one of their headers.
service = re.compile(r'^#include "server/api/(\w+_service)\.h"', re.M)
for path in sorted((server / "api").glob("*.cc")):
    for target in service.findall(path.read_text()):
        if target != path.stem:
            bad.append(f"{path.relative_to(root)}: includes another service's "
                       f"header, server/api/{target}.h")

if bad:
    print("check-layers: includes against the arrows:")
    for line in bad:
        print("  " + line)
    sys.exit(1)
order = sorted(may, key=lambda f: (len(may[f]), f))
print(f"check-layers: {checked} includes of server/ follow the arrows:")
for folder in order:
    below = sorted(may[folder] - {folder})
    print(f"  {folder:<13} <- {', '.join(below) if below else '(nothing)'}")
