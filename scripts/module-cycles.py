#!/usr/bin/env python3
"""Fails when the modules of a crate import each other in a cycle.

An edge goes from a module to every module it names through `crate::`, `super::` or `self::`
paths, and from a module to the children it declares (`mod x;`); a child naming its own
ancestors is not an edge (that is how a module and its parts share types). Inline test modules
are left out. Usage: module-cycles.py <src dir>...
"""
import os
import re
import sys


def modules(root):
    found = {}
    for folder, _, files in os.walk(root):
        for name in files:
            if not name.endswith(".rs"):
                continue
            path = os.path.join(folder, name)
            module = os.path.relpath(path, root)[:-3]
            if module.endswith("/mod"):
                module = module[:-4]
            if module in ("lib", "main"):
                module = "crate:" + module
            found[module] = path
    return found


def resolve(found, current, path):
    parts = path.split("::")
    if parts[0] == "crate":
        base, parts = [], parts[1:]
    elif parts[0] == "super":
        base, parts = current.split("/")[:-1], parts[1:]
        while parts and parts[0] == "super":
            base, parts = base[:-1], parts[1:]
    else:
        base, parts = current.split("/"), parts[1:]
    for i in range(len(parts), 0, -1):
        candidate = "/".join(base + parts[:i])
        if candidate in found:
            return candidate
    return "/".join(base) or None


def edges_of(found):
    edges = {}
    for module, path in found.items():
        source = open(path, encoding="utf-8").read()
        source = re.split(r"#\[cfg\(test\)\]\s*mod tests\s*\{", source)[0]
        deps = set()
        for used in re.findall(r"\b((?:crate|super|self)(?:::\w+)+)", source):
            target = resolve(found, module, used)
            if target and target != module and not module.startswith(target + "/"):
                deps.add(target)
        for child in re.findall(r"^\s*(?:pub(?:\([^)]*\))?\s+)?mod (\w+);", source, re.M):
            name = child if module.startswith("crate:") else module + "/" + child
            if name in found:
                deps.add(name)
        edges[module] = deps
    return edges


def cycles(edges):
    """Strongly connected groups of more than one module (Tarjan)."""
    index, low, stack, on_stack, groups = {}, {}, [], set(), []
    counter = [0]
    sys.setrecursionlimit(100_000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in edges:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in edges:
        if v not in index:
            visit(v)
    return groups


def main():
    failed = False
    for root in sys.argv[1:]:
        for group in cycles(edges_of(modules(root))):
            failed = True
            print(f"{root}: modules that import each other in a cycle: {', '.join(group)}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
