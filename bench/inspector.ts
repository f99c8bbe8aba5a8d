/**
 * Profiles of the operator process through the V8 inspector (the process runs with
 * `--inspect`): heap snapshots summarised by what holds the memory (retained size per class,
 * from the dominator tree as Chrome DevTools computes it) and CPU profiles summarised by self
 * time per function. Used to find where memory and time go when a target is missed.
 *
 * @module
 */

/** The parts of a V8 `.heapsnapshot` the summary reads. */
export interface HeapSnapshot {
  snapshot: {
    meta: {
      node_fields: string[];
      node_types: (string[] | string)[];
      edge_fields: string[];
      edge_types: (string[] | string)[];
    };
    node_count: number;
    edge_count: number;
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

/** Memory held by one class (or node type) in a snapshot. */
export interface HeapGroup {
  name: string;
  count: number;
  /** Bytes of the objects themselves. */
  self_bytes: number;
  /**
   * Bytes that would be freed with these objects: the sum of their retained sizes, counting
   * only objects not dominated by another object of the same group.
   */
  retained_bytes: number;
}

/** Summary of a snapshot. */
export interface HeapSummary {
  total_bytes: number;
  nodes: number;
  /** By class / constructor name (objects and closures), largest retained first. */
  by_class: HeapGroup[];
  /** By V8 node type (object, string, array, code, ...), largest self size first. */
  by_type: HeapGroup[];
}

/**
 * Summarises a heap snapshot: immediate dominators by Lengauer and Tarjan's algorithm over the
 * graph without weak edges, rooted at node 0 (the synthetic root), then retained sizes, grouped
 * by class with nested instances of the same class counted once.
 */
export function summarizeHeap(snap: HeapSnapshot, top = 30): HeapSummary {
  const meta = snap.snapshot.meta;
  const nf = meta.node_fields.length;
  const ef = meta.edge_fields.length;
  const typeOff = meta.node_fields.indexOf("type");
  const nameOff = meta.node_fields.indexOf("name");
  const sizeOff = meta.node_fields.indexOf("self_size");
  const edgeCountOff = meta.node_fields.indexOf("edge_count");
  const edgeTypeOff = meta.edge_fields.indexOf("type");
  const edgeToOff = meta.edge_fields.indexOf("to_node");
  const nodeTypes = meta.node_types[typeOff] as string[];
  const edgeTypes = meta.edge_types[edgeTypeOff] as string[];
  const weak = edgeTypes.indexOf("weak");
  const nodes = snap.nodes;
  const edges = snap.edges;
  const n = nodes.length / nf;

  const firstEdge = new Int32Array(n + 1);
  for (let i = 0, e = 0; i < n; i++) {
    firstEdge[i] = e;
    e += nodes[i * nf + edgeCountOff];
    firstEdge[i + 1] = e;
  }

  // Depth-first numbering from the root (iterative); dfs numbers index everything below.
  const dfnum = new Int32Array(n).fill(-1);
  const vert = new Int32Array(n);
  const par = new Int32Array(n);
  const cursor = new Int32Array(n);
  let count = 0;
  const stack = new Int32Array(n);
  let sp = 0;
  dfnum[0] = count;
  vert[count] = 0;
  par[count++] = -1;
  stack[sp++] = 0;
  cursor[0] = firstEdge[0];
  while (sp > 0) {
    const v = stack[sp - 1];
    if (cursor[v] < firstEdge[v + 1]) {
      const e = cursor[v]++;
      if (edges[e * ef + edgeTypeOff] === weak) continue;
      const w = edges[e * ef + edgeToOff] / nf;
      if (dfnum[w] === -1) {
        dfnum[w] = count;
        vert[count] = w;
        par[count++] = dfnum[v];
        cursor[w] = firstEdge[w];
        stack[sp++] = w;
      }
    } else sp--;
  }
  const N = count;

  // Predecessors in dfs numbers (reachable sources only).
  const predStart = new Int32Array(N + 1);
  for (let k = 0; k < N; k++) {
    const v = vert[k];
    for (let e = firstEdge[v]; e < firstEdge[v + 1]; e++) {
      if (edges[e * ef + edgeTypeOff] === weak) continue;
      predStart[dfnum[edges[e * ef + edgeToOff] / nf] + 1]++;
    }
  }
  for (let k = 0; k < N; k++) predStart[k + 1] += predStart[k];
  const preds = new Int32Array(predStart[N]);
  const fill = predStart.slice(0, N);
  for (let k = 0; k < N; k++) {
    const v = vert[k];
    for (let e = firstEdge[v]; e < firstEdge[v + 1]; e++) {
      if (edges[e * ef + edgeTypeOff] === weak) continue;
      preds[fill[dfnum[edges[e * ef + edgeToOff] / nf]]++] = k;
    }
  }

  const semi = new Int32Array(N);
  const idom = new Int32Array(N);
  const ancestor = new Int32Array(N).fill(-1);
  const label = new Int32Array(N);
  const bucketHead = new Int32Array(N).fill(-1);
  const bucketNext = new Int32Array(N).fill(-1);
  for (let k = 0; k < N; k++) {
    semi[k] = k;
    label[k] = k;
  }
  const path = new Int32Array(N);
  const evalNode = (v: number): number => {
    if (ancestor[v] === -1) return v;
    // Path compression without recursion: climb, then fold labels down from the top.
    let len = 0;
    for (let x = v; ancestor[ancestor[x]] !== -1; x = ancestor[x]) path[len++] = x;
    for (let i = len - 1; i >= 0; i--) {
      const x = path[i];
      const a = ancestor[x];
      if (semi[label[a]] < semi[label[x]]) label[x] = label[a];
      ancestor[x] = ancestor[a];
    }
    return label[v];
  };
  for (let w = N - 1; w >= 1; w--) {
    for (let p = predStart[w]; p < predStart[w + 1]; p++) {
      const u = evalNode(preds[p]);
      if (semi[u] < semi[w]) semi[w] = semi[u];
    }
    bucketNext[w] = bucketHead[semi[w]];
    bucketHead[semi[w]] = w;
    const pw = par[w];
    ancestor[w] = pw;
    for (let v = bucketHead[pw]; v !== -1; v = bucketNext[v]) {
      const u = evalNode(v);
      idom[v] = semi[u] < semi[v] ? u : pw;
    }
    bucketHead[pw] = -1;
  }
  for (let w = 1; w < N; w++) if (idom[w] !== semi[w]) idom[w] = idom[idom[w]];
  idom[0] = 0;

  const retained = new Float64Array(N);
  for (let k = 0; k < N; k++) retained[k] = nodes[vert[k] * nf + sizeOff];
  for (let k = N - 1; k >= 1; k--) retained[idom[k]] += retained[k];

  const groupId = new Int32Array(N).fill(-1);
  const groupNames: string[] = [];
  const groupIndex = new Map<string, number>();
  const types = new Map<string, HeapGroup>();
  let total = 0;
  for (let k = 0; k < N; k++) {
    const v = vert[k];
    const self = nodes[v * nf + sizeOff];
    total += self;
    const type = nodeTypes[nodes[v * nf + typeOff]];
    let t = types.get(type);
    if (!t) types.set(type, t = { name: type, count: 0, self_bytes: 0, retained_bytes: 0 });
    t.count++;
    t.self_bytes += self;
    if (type !== "object" && type !== "closure") continue;
    const name = `${snap.strings[nodes[v * nf + nameOff]]}${type === "closure" ? "()" : ""}`;
    let g = groupIndex.get(name);
    if (g === undefined) {
      g = groupNames.length;
      groupNames.push(name);
      groupIndex.set(name, g);
    }
    groupId[k] = g;
  }
  // First rank groups by their instances' retained sizes (nested ones counted twice), then
  // recount the leading ones exactly: an instance counts only if no dominator is of its group.
  const rough = new Float64Array(groupNames.length);
  const counts = new Int32Array(groupNames.length);
  const selfs = new Float64Array(groupNames.length);
  for (let k = 0; k < N; k++) {
    const g = groupId[k];
    if (g < 0) continue;
    rough[g] += retained[k];
    counts[g]++;
    selfs[g] += nodes[vert[k] * nf + sizeOff];
  }
  const leading = [...rough.keys()].sort((a, b) => rough[b] - rough[a]).slice(0, top * 2);
  const under = new Uint8Array(N);
  const classes: HeapGroup[] = leading.map((g) => {
    let sum = 0;
    under[0] = groupId[0] === g ? 1 : 0;
    if (under[0]) sum += retained[0];
    for (let k = 1; k < N; k++) {
      const inherited = under[idom[k]];
      if (!inherited && groupId[k] === g) sum += retained[k];
      under[k] = inherited || groupId[k] === g ? 1 : 0;
    }
    return { name: groupNames[g], count: counts[g], self_bytes: selfs[g], retained_bytes: sum };
  });
  return {
    total_bytes: total,
    nodes: N,
    by_class: classes.sort((a, b) => b.retained_bytes - a.retained_bytes).slice(0, top),
    by_type: [...types.values()].sort((a, b) => b.self_bytes - a.self_bytes),
  };
}

/** A connection to a process's inspector (Chrome DevTools Protocol over WebSocket). */
export class InspectorSession {
  readonly #ws: WebSocket;
  readonly #pending = new Map<number, (msg: { result?: unknown; error?: unknown }) => void>();
  readonly #listeners = new Map<string, (params: Record<string, unknown>) => void>();
  #nextId = 1;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.onmessage = (ev) => {
      const msg = JSON.parse(ev.data as string);
      if (msg.id !== undefined) this.#pending.get(msg.id)?.(msg);
      else this.#listeners.get(msg.method)?.(msg.params);
    };
  }

  /** Connects to the first target of the inspector at `hostPort` (e.g. 127.0.0.1:9229). */
  static async connect(hostPort: string): Promise<InspectorSession> {
    const targets = await (await fetch(`http://${hostPort}/json/list`)).json() as {
      webSocketDebuggerUrl: string;
    }[];
    if (!targets.length) throw new Error(`Cannot profile: no inspector target at ${hostPort}`);
    const ws = new WebSocket(targets[0].webSocketDebuggerUrl);
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = (e) =>
        reject(new Error(`Cannot connect to the inspector: ${(e as ErrorEvent).message}`));
    });
    return new InspectorSession(ws);
  }

  /** Sends one command and resolves with its result. */
  call<T = unknown>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    return new Promise((resolve, reject) => {
      const id = this.#nextId++;
      this.#pending.set(id, (msg) => {
        this.#pending.delete(id);
        if (msg.error) {
          reject(new Error(`Inspector ${method} failed: ${JSON.stringify(msg.error)}`));
        } else resolve(msg.result as T);
      });
      this.#ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Takes a heap snapshot (V8 collects garbage first) and returns its JSON text. */
  async heapSnapshot(): Promise<string> {
    const chunks: string[] = [];
    this.#listeners.set("HeapProfiler.addHeapSnapshotChunk", (p) => chunks.push(p.chunk as string));
    await this.call("HeapProfiler.enable");
    await this.call("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
    this.#listeners.delete("HeapProfiler.addHeapSnapshotChunk");
    return chunks.join("");
  }

  /** Samples the CPU for `ms` and returns the profile (`.cpuprofile` JSON). */
  async cpuProfile(ms: number, intervalUs = 1000): Promise<CpuProfile> {
    await this.call("Profiler.enable");
    await this.call("Profiler.setSamplingInterval", { interval: intervalUs });
    await this.call("Profiler.start");
    await new Promise((r) => setTimeout(r, ms));
    const { profile } = await this.call<{ profile: CpuProfile }>("Profiler.stop");
    return profile;
  }

  /**
   * Samples allocations for `ms`, counting also objects that garbage collection has freed by the
   * end (the transient allocation that drives collections and the resident peak).
   */
  async allocationProfile(ms: number, samplingIntervalBytes = 32_768): Promise<AllocationProfile> {
    await this.call("HeapProfiler.enable");
    await this.call("HeapProfiler.startSampling", {
      samplingInterval: samplingIntervalBytes,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    await new Promise((r) => setTimeout(r, ms));
    const { profile } = await this.call<{ profile: AllocationProfile }>(
      "HeapProfiler.stopSampling",
    );
    return profile;
  }

  close(): void {
    this.#ws.close();
  }
}

/** The parts of a sampling heap profile the summary reads. */
export interface AllocationProfile {
  head: AllocationNode;
}

/** One call-tree node of a sampling heap profile. */
export interface AllocationNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  /** Bytes sampled as allocated by this function itself. */
  selfSize: number;
  children: AllocationNode[];
}

/** Bytes allocated by one function. */
export interface AllocationEntry {
  function: string;
  location: string;
  self_mib: number;
  /** Its own allocations plus those of everything it called. */
  total_mib: number;
  self_pct: number;
}

/** Allocated bytes per function of a sampling heap profile, largest own allocation first. */
export function summarizeAllocationProfile(profile: AllocationProfile, top = 30): {
  total_mib: number;
  by_function: AllocationEntry[];
} {
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const key = (n: AllocationNode) => {
    const file = n.callFrame.url.split("/").pop() ?? "";
    return `${n.callFrame.functionName || "(anonymous)"}\u0000${file}:${
      n.callFrame.lineNumber + 1
    }`;
  };
  let all = 0;
  // Returns the bytes of the subtree; `onStack` counts a recursive function once per path.
  const walk = (n: AllocationNode, onStack: Set<string>): number => {
    const k = key(n);
    self.set(k, (self.get(k) ?? 0) + n.selfSize);
    all += n.selfSize;
    const fresh = !onStack.has(k);
    if (fresh) onStack.add(k);
    let bytes = n.selfSize;
    for (const c of n.children) bytes += walk(c, onStack);
    if (fresh) {
      onStack.delete(k);
      total.set(k, (total.get(k) ?? 0) + bytes);
    }
    return bytes;
  };
  walk(profile.head, new Set());
  const mib = (b: number) => Math.round((b / 2 ** 20) * 100) / 100;
  const entries = [...self].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, bytes]) => {
    const [fn, location] = k.split("\u0000");
    return {
      function: fn,
      location,
      self_mib: mib(bytes),
      total_mib: mib(total.get(k) ?? 0),
      self_pct: Math.round((bytes / Math.max(1, all)) * 1000) / 10,
    };
  });
  return { total_mib: mib(all), by_function: entries };
}

/** The parts of a `.cpuprofile` the summary reads. */
export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Time spent in one function. */
export interface CpuEntry {
  function: string;
  /** `file:line`, the file shortened to its name. */
  location: string;
  self_ms: number;
  /** Self time plus the time of everything it called. */
  total_ms: number;
  self_pct: number;
}

/** Self and total time per function of a CPU profile, largest self time first. */
export function summarizeCpuProfile(profile: CpuProfile, top = 30): {
  duration_ms: number;
  /** Time not idle (the rest is `(idle)` / `(program)` waiting). */
  busy_ms: number;
  by_function: CpuEntry[];
} {
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const key = (n: CpuProfile["nodes"][number]) => {
    const file = n.callFrame.url.split("/").pop() ?? "";
    return `${n.callFrame.functionName || "(anonymous)"}\u0000${file}:${
      n.callFrame.lineNumber + 1
    }`;
  };
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let busy = 0;
  let duration = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    duration += us;
    const k = key(n);
    self.set(k, (self.get(k) ?? 0) + us);
    if (!["(idle)", "(program)", "(garbage collector)"].includes(n.callFrame.functionName)) {
      busy += us;
    }
    // Total time: once per distinct function on the sample's stack.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const kk = key(byId.get(cur)!);
      if (seen.has(kk)) continue;
      seen.add(kk);
      total.set(kk, (total.get(kk) ?? 0) + us);
    }
  }
  const entries = [...self].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, us]) => {
    const [fn, location] = k.split("\u0000");
    return {
      function: fn,
      location,
      self_ms: Math.round(us / 100) / 10,
      total_ms: Math.round((total.get(k) ?? 0) / 100) / 10,
      self_pct: Math.round((us / Math.max(1, duration)) * 1000) / 10,
    };
  });
  return {
    duration_ms: Math.round(duration / 1000),
    busy_ms: Math.round(busy / 1000),
    by_function: entries,
  };
}
