/**
 * Simulated kubelets as API clients: one pool manages every Node labelled
 * `drop-sim/managed: "true"` — registers it Ready, heartbeats (Lease renewals and node status
 * reports, staggered on one timer), keeps its image store in `status.images`, and runs the pods
 * bound to it. It uses only standard API calls, so it works against a real kube-apiserver too.
 *
 * @module
 */
import type { Lease } from "kubernetes-types/coordination/v1.d.ts";
import type { Event, Node, Pod, PodStatus, Secret } from "kubernetes-types/core/v1.d.ts";
import {
  EventRecorder,
  EVENTS,
  Informer,
  isConflict,
  isNotFound,
  type KubeClient,
  LEASES,
  nodeNameIndexer,
  NODES,
  PODS,
  SECRETS,
} from "../kube/mod.ts";
import { Limiter } from "./_limiter.ts";
import { promptlyAborted } from "./_prompt_watch.ts";
import { ImagePuller, type PullRecord } from "./image_puller.ts";
import { ImageStore, type StoredImageInfo } from "./image_store.ts";
import {
  type ConditionMemory,
  NODE_LEASE_NAMESPACE,
  nodeConditions,
  nodeLease,
  nodeStatus,
} from "./node_status.ts";
import { type PodEnv, PodStopped, runPod } from "./pod_worker.ts";
import type { RegistryCatalogue } from "./registry_catalogue.ts";
import { Scheduler } from "./scheduler.ts";

/** The label that hands a Node to the simulated kubelets. */
export const MANAGED_LABEL = "drop-sim/managed";
/** Annotation overriding a node's pull bandwidth, in bytes per second. */
export const BANDWIDTH_ANNOTATION = "drop-sim/bandwidth";
/** Default pull bandwidth of a node: 100 MB/s. */
export const DEFAULT_BANDWIDTH = 100_000_000;

/** Options of {@linkcode KubeletPool}. */
export interface KubeletPoolOptions {
  /**
   * API client the kubelets use (needs nodes, nodes/status, pods, pods/status, leases, events,
   * secrets): a {@linkcode KubeClient}, or an in-process transport beside the API server.
   */
  client: Pick<KubeClient, "resource">;
  /** The registry pulls resolve against. */
  catalogue: RegistryCatalogue;
  /**
   * Wall time per simulated time: 1 is real time, 0.01 runs pulls, backoffs and deadlines 100
   * times faster. Default 1.
   */
  timeScale?: number;
  /** Pull bandwidth in bytes per second, for all nodes or by node name. Default 100 MB/s. */
  bandwidth?: number | Record<string, number>;
  /** Which nodes this pool runs; default those labelled `drop-sim/managed: "true"`. */
  manages?: (node: Node) => boolean;
  /**
   * Lease renewal period (wall ms). Default 10 s whatever the time scale: node health is judged
   * in real time (kube-controller-manager's 40 s grace period), and faster heartbeats would only
   * cost API load at thousands of nodes.
   */
  leaseRenewIntervalMs?: number;
  /**
   * Period of unconditional node status reports (wall ms). Default 5 min, the kubelet's
   * `nodeStatusReportFrequency`, likewise not scaled.
   */
  nodeStatusReportIntervalMs?: number;
  /**
   * Delay before a changed node status (new images, readiness) is written (wall ms). Default
   * 10 s × timeScale within [50 ms, 10 s], as `nodeStatusUpdateFrequency`.
   */
  nodeStatusUpdateIntervalMs?: number;
  /** API requests in flight at once across all kubelets. Default 32. */
  maxConcurrentRequests?: number;
  /** Finished pulls each node remembers for {@linkcode KubeletPool.pullHistory}. Default 1,000. */
  pullHistoryLimit?: number;
  /**
   * Delete the pods of a deleted node, as kube-controller-manager's pod GC does. Only for a
   * cluster without a controller manager. Default false.
   */
  deletePodsOfDeletedNodes?: boolean;
  /**
   * Record the Normal Events of pods (Pulling, Pulled, Created, Started, Killing). Default true.
   * Benchmarks can turn them off to see how much of a run the simulator's own load is: at
   * thousands of nodes they are most of the kubelets' writes. Warnings are always recorded.
   */
  normalPodEvents?: boolean;
  /** Failures of background writes; default logs to stderr. */
  onError?: (error: unknown) => void;
}

/** Counters of what the kubelets did, for benchmarks. */
export interface KubeletStats {
  nodes: number;
  readyNodes: number;
  runningPods: number;
  leaseRenewals: number;
  nodeStatusWrites: number;
  podStatusWrites: number;
  pulls: number;
}

interface PodSlot {
  uid: string;
  controller: AbortController;
  done: Promise<void>;
  finished: boolean;
}

interface SimNode {
  name: string;
  uid: string;
  obj: Node;
  index: number;
  ip: string;
  ready: boolean;
  registered: boolean;
  readyWritten?: boolean;
  store: ImageStore;
  puller: ImagePuller;
  conditions: ConditionMemory;
  lease?: Lease;
  imagesWritten: number;
  pods: Map<string, PodSlot>;
  podIPs: number;
  history: PullRecord[];
  recorder?: EventRecorder;
  cancelLease?: () => void;
  cancelReport?: () => void;
  cancelFlush?: () => void;
  statusWrites: Promise<void>;
  readyWaiters: (() => void)[];
  gone: boolean;
}

const HISTORY_LIMIT = 1000;
/**
 * Entries of each node's Event aggregation cache. client-go keeps 4,096 per process, but a
 * kubelet's Events concern its few live pods (a pod looping in backoff repeats about five
 * series), and thousands of simulated nodes share this one: at 256 a 5,000-node warm-up kept
 * every Event series it ever wrote, hundreds of megabytes the simulator's collections walked.
 */
const EVENT_CACHE_SIZE = 32;

/** Runs simulated kubelets for every managed Node of a cluster. */
export class KubeletPool {
  readonly #opts: KubeletPoolOptions;
  readonly #client: Pick<KubeClient, "resource">;
  readonly #timeScale: number;
  readonly #scheduler = new Scheduler();
  readonly #limiter: Limiter;
  readonly #nodes = new Map<string, SimNode>();
  readonly #stop = new AbortController();
  readonly #nodeInformer: Informer<Node>;
  readonly #podInformer: Informer<Pod>;
  readonly #leaseMs: number;
  readonly #reportMs: number;
  readonly #updateMs: number;
  readonly #bandwidth = new Map<string, number>();
  readonly #deleting = new Set<string>();
  /** One string per image reference for all pull records, not one per pod. */
  readonly #refs = new Map<string, string>();
  readonly #historyLimit: number;
  #nextIndex = 1;
  #running?: Promise<void>[];
  #stats = { leaseRenewals: 0, nodeStatusWrites: 0, podStatusWrites: 0, pulls: 0 };

  constructor(opts: KubeletPoolOptions) {
    this.#opts = opts;
    this.#client = opts.client;
    this.#timeScale = opts.timeScale ?? 1;
    if (!(this.#timeScale > 0)) {
      throw new RangeError(
        `Cannot run kubelets with time scale ${this.#timeScale}: it must be > 0`,
      );
    }
    const scaled = (ms: number, min: number, max: number) =>
      Math.min(max, Math.max(min, ms * this.#timeScale));
    this.#leaseMs = opts.leaseRenewIntervalMs ?? 10_000;
    this.#reportMs = opts.nodeStatusReportIntervalMs ?? 300_000;
    this.#updateMs = opts.nodeStatusUpdateIntervalMs ?? scaled(10_000, 50, 10_000);
    this.#limiter = new Limiter(opts.maxConcurrentRequests ?? 32);
    this.#historyLimit = opts.pullHistoryLimit ?? HISTORY_LIMIT;
    if (typeof opts.bandwidth === "object") {
      for (const [name, bps] of Object.entries(opts.bandwidth)) this.#bandwidth.set(name, bps);
    }
    // Nodes are filtered here rather than with a label selector, so that a node losing the
    // label is released like a deleted one.
    this.#nodeInformer = new Informer<Node>(promptlyAborted(this.#client.resource<Node>(NODES)), {
      name: "sim-kubelet nodes",
      transform: stripManagedFields,
      onError: (e) => this.#report(e),
    });
    this.#podInformer = new Informer<Pod>(promptlyAborted(this.#client.resource<Pod>(PODS)), {
      name: "sim-kubelet pods",
      indexers: { node: nodeNameIndexer },
      transform: stripManagedFields,
      onError: (e) => this.#report(e),
    });
  }

  /** Starts watching Nodes and Pods; resolves once both caches are synced. */
  async start(): Promise<void> {
    if (this.#running) throw new Error("Cannot start the kubelet pool: it is already running");
    const signal = this.#stop.signal;
    this.#running = [this.#nodeInformer.start(signal), this.#podInformer.start(signal)];
    this.#podInformer.on({
      add: (pod) => this.#onPod(pod),
      update: (_old, pod) => this.#onPod(pod),
      delete: (pod) => this.#onPodDeleted(pod),
    });
    this.#nodeInformer.on({
      add: (node) => this.#onNode(node),
      update: (_old, node) => this.#onNode(node),
      delete: (node) => this.#onNodeDeleted(node),
    });
    await Promise.all([this.#nodeInformer.synced, this.#podInformer.synced]);
  }

  /** Stops every kubelet: heartbeats end, pod workers stop, pending events are flushed. */
  async stop(): Promise<void> {
    if (this.#stop.signal.aborted) return;
    this.#stop.abort(new PodStopped("shutdown"));
    const workers: Promise<void>[] = [];
    const recorders: Promise<void>[] = [];
    for (const node of this.#nodes.values()) {
      for (const slot of node.pods.values()) {
        slot.controller.abort(new PodStopped("shutdown"));
        workers.push(slot.done);
      }
      for (const w of node.readyWaiters) w();
    }
    await Promise.allSettled(workers);
    this.#scheduler.stop();
    for (const node of this.#nodes.values()) {
      if (node.recorder) recorders.push(node.recorder.flush());
    }
    await Promise.allSettled([...recorders, ...(this.#running ?? [])]);
    // Writes already handed to the limiter finish (or fail) before we return.
    while (this.#limiter.active > 0 || this.#limiter.queued > 0) {
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Names of the managed nodes. */
  nodeNames(): string[] {
    return [...this.#nodes.keys()];
  }

  /** Whether a node's latest written status says Ready. */
  isReady(name: string): boolean {
    const node = this.#nodes.get(name);
    return node?.readyWritten === true;
  }

  /** Resolves once every named node is managed and has written a Ready status. */
  async waitForReady(names: string[], signal?: AbortSignal): Promise<void> {
    while (!names.every((n) => this.isReady(n))) {
      signal?.throwIfAborted();
      this.#stop.signal.throwIfAborted();
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /**
   * Makes a node's kubelet report Ready or NotReady (as when its runtime fails). While NotReady
   * its pods do not progress and no pull starts.
   */
  setReady(name: string, ready: boolean): void {
    const node = this.#mustGet(name);
    if (node.ready === ready) return;
    node.ready = ready;
    if (ready) { for (const w of node.readyWaiters.splice(0)) w(); }
    this.#flushStatusSoon(node, 0);
  }

  /** Changes a node's pull bandwidth (bytes per second); applies from the next pull. */
  setBandwidth(name: string, bytesPerSecond: number): void {
    this.#bandwidth.set(name, bytesPerSecond);
  }

  /** The images on a node, largest first. */
  images(name: string): StoredImageInfo[] {
    return this.#mustGet(name).store.list();
  }

  /** The node's finished pulls, oldest first (at most the last `pullHistoryLimit`). */
  pullHistory(name: string): PullRecord[] {
    return [...this.#mustGet(name).history];
  }

  /** What the kubelets did so far. */
  stats(): KubeletStats {
    let readyNodes = 0;
    let runningPods = 0;
    for (const n of this.#nodes.values()) {
      if (n.readyWritten) readyNodes++;
      for (const s of n.pods.values()) if (!s.finished) runningPods++;
    }
    return { nodes: this.#nodes.size, readyNodes, runningPods, ...this.#stats };
  }

  // --- nodes -------------------------------------------------------------------------------

  #onNode(obj: Node): void {
    const name = obj.metadata?.name ?? "";
    const uid = obj.metadata?.uid ?? "";
    if (!name || this.#stop.signal.aborted) return;
    const known = this.#nodes.get(name);
    if (!(this.#opts.manages ?? isManaged)(obj)) {
      if (known) this.#removeNode(known, false);
      return;
    }
    if (known && known.uid === uid) {
      known.obj = obj;
      return;
    }
    if (known) this.#removeNode(known, false);
    this.#addNode(obj, name, uid);
  }

  #onNodeDeleted(obj: Node): void {
    const node = this.#nodes.get(obj.metadata?.name ?? "");
    if (node && node.uid === obj.metadata?.uid) this.#removeNode(node, true);
  }

  #addNode(obj: Node, name: string, uid: string): void {
    const index = this.#nextIndex++;
    const store = new ImageStore();
    const node: SimNode = {
      name,
      uid,
      obj,
      index,
      ip: `10.0.${Math.floor(index / 250) % 256}.${(index % 250) + 1}`,
      ready: true,
      registered: false,
      store,
      puller: undefined as unknown as ImagePuller,
      conditions: new Map(),
      imagesWritten: -1,
      pods: new Map(),
      podIPs: 1,
      history: [],
      readyWaiters: [],
      gone: false,
      statusWrites: Promise.resolve(),
    };
    node.puller = new ImagePuller({
      catalogue: this.#opts.catalogue,
      store,
      scheduler: this.#scheduler,
      timeScale: this.#timeScale,
      bandwidth: () => this.#bandwidthOf(node),
      whenReady: (signal) => this.#whenReady(node, signal),
      onRecord: (record) => {
        this.#stats.pulls++;
        node.history.push(this.#compactRecord(record));
        if (node.history.length > this.#historyLimit) node.history.shift();
        this.#flushStatusSoon(node, this.#updateMs);
      },
    });
    this.#nodes.set(name, node);
    // Registration and the first Lease at once, as a starting kubelet; later heartbeats start at
    // a random point of their period so that thousands of nodes spread their writes evenly.
    this.#flushStatusSoon(node, 0);
    node.cancelLease = this.#scheduler.after(0, () => this.#leaseTick(node, true));
    node.cancelReport = this.#scheduler.after(
      Math.random() * this.#reportMs,
      () => this.#reportTick(node),
    );
    for (const pod of this.#podInformer.byIndex("node", name)) this.#onPod(pod);
  }

  #removeNode(node: SimNode, deleted: boolean): void {
    node.gone = true;
    this.#nodes.delete(node.name);
    node.cancelLease?.();
    node.cancelReport?.();
    node.cancelFlush?.();
    for (const slot of node.pods.values()) slot.controller.abort(new PodStopped("shutdown"));
    for (const w of node.readyWaiters.splice(0)) w();
    if (deleted && this.#opts.deletePodsOfDeletedNodes) {
      for (const pod of this.#podInformer.byIndex("node", node.name)) {
        this.#write(() =>
          this.#client.resource<Pod>(PODS, pod.metadata?.namespace).delete(pod.metadata!.name!, {
            gracePeriodSeconds: 0,
            preconditions: { uid: pod.metadata?.uid },
          })
        ).catch((e) => {
          if (!isNotFound(e) && !isConflict(e)) this.#report(e);
        });
      }
    }
  }

  #compactRecord(record: PullRecord): PullRecord {
    let ref = this.#refs.get(record.ref);
    if (ref === undefined) this.#refs.set(record.ref, ref = record.ref);
    return { ...record, ref };
  }

  #bandwidthOf(node: SimNode): number {
    const annotated = Number(node.obj.metadata?.annotations?.[BANDWIDTH_ANNOTATION]);
    if (Number.isFinite(annotated) && annotated > 0) return annotated;
    const configured = this.#bandwidth.get(node.name);
    if (configured) return configured;
    return typeof this.#opts.bandwidth === "number" ? this.#opts.bandwidth : DEFAULT_BANDWIDTH;
  }

  #whenReady(node: SimNode, signal: AbortSignal): Promise<void> {
    if (node.gone) return Promise.reject(new PodStopped("shutdown"));
    if (node.ready && node.registered) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      node.readyWaiters.push(() => {
        signal.removeEventListener("abort", onAbort);
        if (node.gone) reject(new PodStopped("shutdown"));
        else resolve();
      });
    });
  }

  #leaseTick(node: SimNode, first = false): void {
    if (node.gone) return;
    this.#renewLease(node)
      .catch((e) => this.#report(e))
      .finally(() => {
        if (node.gone) return;
        const next = first ? Math.random() * this.#leaseMs : this.#leaseMs;
        node.cancelLease = this.#scheduler.after(next, () => this.#leaseTick(node));
      });
  }

  async #renewLease(node: SimNode): Promise<void> {
    const leases = this.#client.resource<Lease>(LEASES, NODE_LEASE_NAMESPACE);
    const spec = nodeLease(node.obj, Date.now()).spec;
    if (node.lease) {
      try {
        node.lease = await this.#write(() => leases.replace({ ...node.lease!, spec }));
        this.#stats.leaseRenewals++;
        return;
      } catch (e) {
        if (!isConflict(e) && !isNotFound(e)) throw e;
        node.lease = undefined;
      }
    }
    try {
      const current = await this.#write(() => leases.get(node.name));
      node.lease = await this.#write(() => leases.replace({ ...current, spec }));
    } catch (e) {
      if (!isNotFound(e)) throw e;
      node.lease = await this.#write(() => leases.create(nodeLease(node.obj, Date.now())));
    }
    this.#stats.leaseRenewals++;
  }

  #reportTick(node: SimNode): void {
    if (node.gone) return;
    this.#flushStatusSoon(node, 0);
    node.cancelReport = this.#scheduler.after(this.#reportMs, () => this.#reportTick(node));
  }

  /** Writes the node's status after `delayMs`, unless a write is already due sooner. */
  #flushStatusSoon(node: SimNode, delayMs: number): void {
    if (node.gone || this.#stop.signal.aborted) return;
    if (node.cancelFlush && delayMs > 0) return;
    node.cancelFlush?.();
    node.cancelFlush = this.#scheduler.after(delayMs, () => {
      node.cancelFlush = undefined;
      // One write at a time per node, each built when it starts: a later state never lands
      // before an earlier one.
      node.statusWrites = node.statusWrites
        .then(() => this.#writeNodeStatus(node))
        .catch((e) => {
          this.#report(e);
          this.#flushStatusSoon(node, Math.max(this.#updateMs, 1000));
        });
    });
  }

  async #writeNodeStatus(node: SimNode): Promise<void> {
    if (node.gone) return;
    const now = Date.now();
    const imagesVersion = node.store.version;
    const full = !node.registered || imagesVersion !== node.imagesWritten ||
      node.readyWritten !== node.ready;
    const ready = node.ready;
    const status = full
      ? nodeStatus(
        {
          name: node.name,
          internalIP: node.ip,
          ready,
          labels: node.obj.metadata?.labels,
          images: node.store.nodeStatusImages(),
        },
        now,
        node.conditions,
      )
      : { conditions: nodeConditions(ready, now, node.conditions) };
    await this.#write(() =>
      this.#client.resource<Node>(NODES).patchStatus(node.name, "merge", { status })
    );
    this.#stats.nodeStatusWrites++;
    node.imagesWritten = imagesVersion;
    node.readyWritten = ready;
    if (!node.registered) {
      node.registered = true;
      if (node.ready) { for (const w of node.readyWaiters.splice(0)) w(); }
    }
  }

  // --- pods --------------------------------------------------------------------------------

  #onPod(pod: Pod): void {
    const node = this.#nodes.get(pod.spec?.nodeName ?? "");
    const uid = pod.metadata?.uid ?? "";
    if (!node || !uid || this.#stop.signal.aborted) return;
    const slot = node.pods.get(uid);
    if (pod.metadata?.deletionTimestamp) {
      this.#deletePod(pod, slot);
      return;
    }
    if (slot) return;
    const phase = pod.status?.phase;
    if (phase === "Succeeded" || phase === "Failed") return;
    const controller = new AbortController();
    const next: PodSlot = { uid, controller, done: Promise.resolve(), finished: false };
    next.done = runPod(pod, this.#podEnv(node), controller.signal)
      .catch((e) => {
        if (!(e instanceof PodStopped) && !(e instanceof PodGone) && !this.#stop.signal.aborted) {
          this.#report(e);
        }
      })
      .finally(() => {
        next.finished = true;
      });
    node.pods.set(uid, next);
  }

  #onPodDeleted(pod: Pod): void {
    const uid = pod.metadata?.uid ?? "";
    this.#deleting.delete(uid);
    const node = this.#nodes.get(pod.spec?.nodeName ?? "");
    const slot = node?.pods.get(uid);
    if (!node || !slot) return;
    slot.controller.abort(new PodStopped("deleted"));
    node.pods.delete(uid);
  }

  /** Stops the pod's containers, then removes it for good, as the kubelet finishes a deletion. */
  #deletePod(pod: Pod, slot: PodSlot | undefined): void {
    const uid = pod.metadata!.uid!;
    if (this.#deleting.has(uid)) return;
    this.#deleting.add(uid);
    slot?.controller.abort(new PodStopped("deleted"));
    const finished = slot?.done ?? Promise.resolve();
    finished
      .then(() =>
        this.#write(() =>
          this.#client.resource<Pod>(PODS, pod.metadata?.namespace).delete(pod.metadata!.name!, {
            gracePeriodSeconds: 0,
            preconditions: { uid },
          })
        )
      )
      .catch((e) => {
        if (!isNotFound(e) && !isConflict(e) && !this.#stop.signal.aborted) this.#report(e);
      });
  }

  #podEnv(node: SimNode): PodEnv {
    return {
      nodeName: node.name,
      hostIP: node.ip,
      timeScale: this.#timeScale,
      scheduler: this.#scheduler,
      store: node.store,
      puller: node.puller,
      catalogue: this.#opts.catalogue,
      now: () => Date.now(),
      allocatePodIP: () => {
        const n = node.podIPs++;
        return `10.${128 + Math.floor(node.index / 256) % 128}.${node.index % 256}.${
          (n % 254) + 1
        }`;
      },
      whenReady: (signal) => this.#whenReady(node, signal),
      writeStatus: (pod, status) => this.#writePodStatus(pod, status),
      event: (pod, type, reason, message) => {
        if (type === "Normal" && this.#opts.normalPodEvents === false) return;
        this.#recorder(node).event(pod, type, reason, message);
      },
      missingSecrets: (namespace, names) => this.#missingSecrets(namespace, names),
    };
  }

  async #writePodStatus(pod: Pod, status: PodStatus): Promise<void> {
    const pods = this.#client.resource<Pod>(PODS, pod.metadata?.namespace);
    const body = { metadata: { uid: pod.metadata?.uid }, status };
    for (let attempt = 0;; attempt++) {
      try {
        await this.#write(() => pods.patchStatus(pod.metadata!.name!, "merge", body));
        this.#stats.podStatusWrites++;
        return;
      } catch (e) {
        if (isNotFound(e)) throw new PodGone(pod);
        if (this.#stop.signal.aborted || attempt >= 7) throw e;
        // The status manager retries on its next sync; conflicts here mean a replaced pod.
        if (isConflict(e) && attempt >= 2) throw new PodGone(pod);
        await this.#scheduler.sleep(Math.min(200 * 2 ** attempt, 5000));
      }
    }
  }

  async #missingSecrets(namespace: string, names: string[]): Promise<string[]> {
    const secrets = this.#client.resource<Secret>(SECRETS, namespace);
    const missing: string[] = [];
    for (const name of names) {
      try {
        await this.#write(() => secrets.get(name));
      } catch (e) {
        if (!isNotFound(e)) throw e;
        missing.push(name);
      }
    }
    return missing;
  }

  #recorder(node: SimNode): EventRecorder {
    if (!node.recorder) {
      const events = this.#client.resource<Event>(EVENTS);
      node.recorder = new EventRecorder({
        client: {
          create: (obj, opts) => this.#write(() => events.create(obj, opts)),
          patch: (name, type, body, opts) =>
            this.#write(() => events.patch(name, type, body, opts)),
        },
        component: "kubelet",
        instance: node.name,
        cacheSize: EVENT_CACHE_SIZE,
        // The kubelet's eventRecordQPS and eventBurst.
        qps: 50,
        burst: 100,
        onError: (e) => {
          if (!this.#stop.signal.aborted) this.#report(e);
        },
      });
    }
    return node.recorder;
  }

  #write<T>(fn: () => Promise<T>): Promise<T> {
    return this.#limiter.run(fn);
  }

  #mustGet(name: string): SimNode {
    const node = this.#nodes.get(name);
    if (!node) throw new Error(`Cannot find simulated node "${name}": it is not managed`);
    return node;
  }

  #report(e: unknown): void {
    if (this.#stop.signal.aborted) return;
    if (this.#opts.onError) this.#opts.onError(e);
    else console.error(`sim kubelet: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** The pod no longer exists (or was replaced by one with the same name). */
class PodGone extends Error {
  constructor(pod: Pod) {
    super(
      `Cannot write the status of pod "${pod.metadata?.namespace}/${pod.metadata?.name}": it is gone`,
    );
    this.name = "PodGone";
  }
}

function isManaged(node: Node): boolean {
  return node.metadata?.labels?.[MANAGED_LABEL] === "true";
}

/** Informer caches at thousands of objects need not keep field ownership. */
function stripManagedFields<T extends Pod | Node>(obj: T): T {
  if (obj.metadata?.managedFields) obj.metadata.managedFields = undefined;
  return obj;
}
