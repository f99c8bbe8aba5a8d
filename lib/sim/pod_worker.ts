/**
 * Runs one pod the way the kubelet's pod worker does: Pending with ContainerCreating, image
 * pulls (serialised on the node) with ErrImagePull/ImagePullBackOff retries, create and start,
 * the command's run, termination, and `activeDeadlineSeconds`. It writes only the status
 * transitions a kubelet writes and records the kubelet's Events.
 *
 * @module
 */
import type { Container, Pod, PodStatus } from "kubernetes-types/core/v1.d.ts";
import { parseImageReference } from "../api/mod.ts";
import type { ImagePuller } from "./image_puller.ts";
import type { ImageStore } from "./image_store.ts";
import {
  containerdReference,
  isValidImageReference,
  messages,
  pullErrorMessage,
  REASONS,
  startErrorMessage,
} from "./kubelet_messages.ts";
import { rfc3339 } from "./node_status.ts";
import { buildPodStatus, type ContainerRun, phaseOf } from "./pod_status.ts";
import type { RegistryCatalogue } from "./registry_catalogue.ts";
import type { Scheduler } from "./scheduler.ts";
import { sha256Hex } from "./_hash.ts";

/** What a pod worker needs from its node and the API. */
export interface PodEnv {
  nodeName: string;
  hostIP: string;
  /** Wall milliseconds per simulated millisecond. */
  timeScale: number;
  scheduler: Scheduler;
  store: ImageStore;
  puller: ImagePuller;
  catalogue: RegistryCatalogue;
  /** Wall clock in milliseconds. */
  now(): number;
  allocatePodIP(): string;
  /** Resolves when the node is Ready (its runtime is up). */
  whenReady(signal: AbortSignal): Promise<void>;
  /** Writes `status` through `pods/status`; throws when the pod is gone. */
  writeStatus(pod: Pod, status: PodStatus): Promise<void>;
  event(pod: Pod, type: "Normal" | "Warning", reason: string, message: string): void;
  /** Names among `names` that are not Secrets in `namespace`. */
  missingSecrets(namespace: string, names: string[]): Promise<string[]>;
}

/** Why a pod worker was stopped from outside. */
export type StopReason = "deleted" | "shutdown";

/** The abort reason the kubelet pool uses; the worker tells deletion from shutdown by it. */
export class PodStopped extends Error {
  readonly why: StopReason;
  constructor(why: StopReason) {
    super(why === "deleted" ? "The pod was deleted" : "The kubelet stopped");
    this.name = "PodStopped";
    this.why = why;
  }
}

class DeadlineExceeded extends Error {
  constructor() {
    super("The pod's active deadline passed");
    this.name = "DeadlineExceeded";
  }
}

/** The kubelet relists containers every second (PLEG); a shorter run is never seen running. */
const PLEG_PERIOD_MS = 1000;
/** Image pull backoff of the kubelet: 10 s doubling up to 300 s. */
const BACKOFF_INITIAL_MS = 10_000;
const BACKOFF_MAX_MS = 300_000;
/** After ErrImagePull, the next pod sync finds the image in backoff about this much later. */
const BACKOFF_SYNC_MS = 1000;
const EPOCH = "1970-01-01T00:00:00Z";

/**
 * Runs `pod` to its end. Resolves when the pod reached a final state (or is stuck in a state
 * the kubelet never leaves without a spec change, until `signal` aborts); rejects with the
 * signal's reason when stopped from outside.
 */
export async function runPod(pod: Pod, env: PodEnv, signal: AbortSignal): Promise<void> {
  const worker = new Worker(pod, env);
  await worker.run(signal);
}

class Worker {
  readonly #pod: Pod;
  readonly #env: PodEnv;
  readonly #runs: ContainerRun[];
  readonly #startMs: number;
  readonly #startTime: string;
  #conditions: PodStatus["conditions"];
  #sandboxReady = false;
  #podIP?: string;
  #reason?: string;
  #message?: string;
  /** Wall time the first container started; container run times count from here. */
  #startedAt = 0;
  #exitCodes: number[] = [];

  constructor(pod: Pod, env: PodEnv) {
    this.#pod = pod;
    this.#env = env;
    this.#startMs = env.now();
    this.#startTime = pod.status?.startTime ?? rfc3339(this.#startMs);
    this.#conditions = pod.status?.conditions;
    this.#runs = (pod.spec?.containers ?? []).map((c) => ({
      name: c.name,
      image: c.image ?? "",
      state: { waiting: { reason: REASONS.containerCreating } },
    }));
  }

  async run(outer: AbortSignal): Promise<void> {
    const env = this.#env;
    const deadline = new AbortController();
    const signal = AbortSignal.any([outer, deadline.signal]);
    const seconds = this.#pod.spec?.activeDeadlineSeconds;
    // A start time written earlier (second precision) counts; ours is exact.
    const earlier = Date.parse(this.#pod.status?.startTime ?? "");
    const started = Number.isNaN(earlier) ? this.#startMs : earlier;
    const cancelDeadline = seconds
      ? env.scheduler.after(
        seconds * 1000 * env.timeScale - (env.now() - started),
        () => deadline.abort(new DeadlineExceeded()),
      )
      : undefined;
    try {
      await env.whenReady(signal);
      await this.#write();
      this.#sandboxReady = true;
      this.#podIP = env.allocatePodIP();
      await this.#runContainers(signal);
    } catch (e) {
      if (deadline.signal.aborted && !outer.aborted) return await this.#deadlineExceeded();
      if (outer.aborted && outer.reason instanceof PodStopped && outer.reason.why === "deleted") {
        for (const c of this.#runs) {
          if (c.state.running) this.#event("Normal", "Killing", messages.killing(c.name));
        }
      }
      throw e;
    } finally {
      cancelDeadline?.();
    }
  }

  async #runContainers(signal: AbortSignal): Promise<void> {
    const env = this.#env;
    const specs = this.#pod.spec?.containers ?? [];
    const exitAt: (number | undefined)[] = [];
    for (const [i, spec] of specs.entries()) {
      if (!(await this.#ensureImage(i, spec, signal))) return await forever(signal);
      exitAt[i] = this.#start(i, spec);
    }
    const elapsed = () => (env.now() - this.#startedAt) / env.timeScale;
    let dirty = true;
    for (;;) {
      const running = this.#runs.flatMap((c, i) => (c.state.running ? [i] : []));
      if (running.length === 0) return await this.#write();
      const next = Math.min(...running.map((i) => exitAt[i] ?? Infinity));
      // The kubelet relists containers every second: a shorter run is never seen running.
      if (dirty && next - elapsed() >= PLEG_PERIOD_MS) {
        await this.#write();
        dirty = false;
      }
      if (next === Infinity) return await forever(signal);
      const wait = next - elapsed();
      if (wait > 0) await env.scheduler.sleep(wait * env.timeScale, signal);
      for (const i of running) {
        if ((exitAt[i] ?? Infinity) > elapsed() + 1) continue;
        this.#terminate(i);
        dirty = true;
      }
    }
  }

  /** Brings the image of container `i` onto the node; false when the kubelet gives up for good. */
  async #ensureImage(i: number, spec: Container, signal: AbortSignal): Promise<boolean> {
    const env = this.#env;
    const image = spec.image ?? "";
    const run = this.#runs[i];
    if (!isValidImageReference(image)) {
      const message = messages.invalidImageName(image);
      this.#event("Warning", "InspectFailed", message);
      this.#event("Warning", "Failed", messages.error(REASONS.invalidImageName));
      run.state = { waiting: { reason: REASONS.invalidImageName, message } };
      await this.#write();
      return false;
    }
    const policy = spec.imagePullPolicy ?? defaultPullPolicy(image);
    for (let attempt = 0;; attempt++) {
      const present = env.store.find(image);
      if (present && policy !== "Always") {
        this.#event("Normal", "Pulled", messages.alreadyPresent(image));
        const p = parseImageReference(image);
        this.#setImage(run, image, `${p.registry}/${p.repository}@${present.digest}`);
        return true;
      }
      if (policy === "Never") {
        const message = messages.neverPull(image);
        this.#event("Warning", REASONS.errImageNeverPull, message);
        this.#event("Warning", "Failed", messages.error(REASONS.errImageNeverPull));
        run.state = { waiting: { reason: REASONS.errImageNeverPull, message } };
        await this.#write();
        return false;
      }
      const authenticated = await this.#credentials(signal);
      this.#event("Normal", "Pulling", messages.pulling(image));
      const outcome = await env.puller.pull({ ref: image, authenticated, signal });
      if (outcome.ok) {
        this.#event(
          "Normal",
          "Pulled",
          messages.pulled(image, outcome.pullMs, outcome.totalMs, outcome.manifest.size),
        );
        this.#setImage(run, image, outcome.imageID);
        return true;
      }
      const error = pullErrorMessage(image, outcome.failure);
      this.#event("Warning", "Failed", messages.failedToPull(image, error));
      this.#event("Warning", "Failed", messages.error(REASONS.errImagePull));
      run.state = { waiting: { reason: REASONS.errImagePull, message: error } };
      await this.#write();
      const backoff = Math.min(BACKOFF_INITIAL_MS * 2 ** attempt, BACKOFF_MAX_MS);
      const firstSync = Math.min(BACKOFF_SYNC_MS, backoff);
      await env.scheduler.sleep(firstSync * env.timeScale, signal);
      this.#event("Normal", "BackOff", messages.backOff(image));
      this.#event("Warning", "Failed", messages.error(REASONS.imagePullBackOff));
      run.state = {
        waiting: { reason: REASONS.imagePullBackOff, message: messages.backOff(image) },
      };
      await this.#write();
      await env.scheduler.sleep((backoff - firstSync) * env.timeScale, signal);
    }
  }

  /** Whether the pod's image pull secrets all exist; reports the missing ones like the kubelet. */
  async #credentials(signal: AbortSignal): Promise<boolean> {
    const names = (this.#pod.spec?.imagePullSecrets ?? [])
      .map((s) => s.name ?? "")
      .filter((n) => n !== "");
    if (names.length === 0) return false;
    signal.throwIfAborted();
    const missing = await this.#env.missingSecrets(this.#pod.metadata?.namespace ?? "", names);
    if (missing.length > 0) {
      this.#event("Warning", "FailedToRetrieveImagePullSecret", messages.secretsMissing(missing));
    }
    return missing.length < names.length;
  }

  #setImage(run: ContainerRun, image: string, imageID: string): void {
    run.imageID = imageID;
    const p = parseImageReference(image);
    run.imageRef = p.digest
      ? `${p.registry}/${p.repository}@${p.digest}`
      : containerdReference(image);
  }

  /**
   * Creates and starts container `i`. Returns when it exits, in simulated ms after the first
   * container started, or undefined when it runs until the pod goes.
   */
  #start(i: number, spec: Container): number | undefined {
    const env = this.#env;
    const run = this.#runs[i];
    const uid = this.#pod.metadata?.uid ?? "";
    run.containerID = `containerd://${sha256Hex(`${uid}/${spec.name}/${env.now()}`)}`;
    this.#event("Normal", "Created", messages.created(spec.name));
    if (this.#startedAt === 0) this.#startedAt = env.now();
    const now = rfc3339(env.now());
    const missing = missingExecutable(spec);
    if (missing) {
      const message = startErrorMessage(missing);
      this.#event("Warning", "Failed", messages.error(message));
      run.state = {
        terminated: {
          exitCode: 128,
          reason: REASONS.startError,
          message,
          startedAt: EPOCH,
          finishedAt: now,
          containerID: run.containerID,
        },
      };
      return 0;
    }
    this.#event("Normal", "Started", messages.started(spec.name));
    run.state = { running: { startedAt: now } };
    const behaviour = commandBehaviour(spec, this.#pod.spec?.restartPolicy ?? "Always");
    this.#exitCodes[i] = behaviour.exitCode;
    return behaviour.runMs === Infinity
      ? undefined
      : behaviour.runMs + (env.now() - this.#startedAt) / env.timeScale;
  }

  #terminate(i: number): void {
    const run = this.#runs[i];
    const startedAt = run.state.running?.startedAt;
    const exitCode = this.#exitCodes[i] ?? 0;
    run.state = {
      terminated: {
        exitCode,
        reason: exitCode === 0 ? REASONS.completed : REASONS.error,
        startedAt,
        finishedAt: rfc3339(this.#env.now()),
        containerID: run.containerID,
      },
    };
  }

  async #deadlineExceeded(): Promise<void> {
    const now = rfc3339(this.#env.now());
    for (const run of this.#runs) {
      if (run.state.running) {
        this.#event("Normal", "Killing", messages.killing(run.name));
        run.state = {
          terminated: {
            exitCode: 137,
            reason: REASONS.error,
            startedAt: run.state.running.startedAt,
            finishedAt: now,
            containerID: run.containerID,
          },
        };
      } else if (run.state.waiting) {
        run.state = {
          terminated: {
            exitCode: 137,
            reason: REASONS.containerStatusUnknown,
            message: messages.containerStatusUnknown(),
            startedAt: undefined,
            finishedAt: undefined,
          },
        };
      }
    }
    this.#reason = REASONS.deadlineExceeded;
    this.#message = messages.deadlineExceeded();
    this.#event("Normal", REASONS.deadlineExceeded, this.#message);
    await this.#write("Failed");
  }

  async #write(phase = phaseOf(this.#runs)): Promise<void> {
    const status = buildPodStatus(
      {
        phase,
        sandboxReady: this.#sandboxReady,
        hostIP: this.#env.hostIP,
        podIP: this.#podIP,
        startTime: this.#startTime,
        qosClass: this.#pod.status?.qosClass,
        reason: this.#reason,
        message: this.#message,
        containers: this.#runs,
      },
      this.#conditions,
      rfc3339(this.#env.now()),
    );
    this.#conditions = status.conditions;
    await this.#env.writeStatus(this.#pod, status);
  }

  #event(type: "Normal" | "Warning", reason: string, message: string): void {
    this.#env.event(this.#pod, type, reason, message);
  }
}

/** The API server's default: `Always` for `latest` or no tag, else `IfNotPresent`. */
export function defaultPullPolicy(image: string): string {
  if (image.includes("@")) return "IfNotPresent";
  const tag = parseImageReference(image).tag;
  return !tag || tag === "latest" ? "Always" : "IfNotPresent";
}

/**
 * The executable a container cannot start because its image has no shell utilities
 * (repositories containing `distroless`, `scratch` or `pause`), or undefined.
 */
export function missingExecutable(spec: Container): string | undefined {
  const repository = parseImageReference(spec.image ?? "").repository;
  if (!/distroless|scratch|pause/.test(repository)) return undefined;
  const argv = [...(spec.command ?? []), ...(spec.args ?? [])];
  // Without a command the image's own entrypoint runs, which it has.
  if (argv.length === 0 || argv[0] === "/pause") return undefined;
  return argv[0];
}

/**
 * How long a container runs (simulated ms) and how it exits, from its command: `true` exits 0
 * at once, `false` exits 1, `sleep N` runs N seconds, `sh -c "exit N"` exits N. Containers of
 * pods with restartPolicy Always, and containers without a command, run until the pod goes.
 */
export function commandBehaviour(
  spec: Container,
  restartPolicy: string,
): { runMs: number; exitCode: number } {
  const argv = [...(spec.command ?? []), ...(spec.args ?? [])];
  if (restartPolicy === "Always" || argv.length === 0) return { runMs: Infinity, exitCode: 0 };
  const exe = argv[0].slice(argv[0].lastIndexOf("/") + 1);
  if (exe === "false") return { runMs: 0, exitCode: 1 };
  if (exe === "sleep") return { runMs: seconds(argv[1]), exitCode: 0 };
  if ((exe === "sh" || exe === "bash") && argv[1] === "-c") {
    const script = argv[2] ?? "";
    const exit = /^\s*exit\s+(\d+)\s*$/.exec(script);
    if (exit) return { runMs: 0, exitCode: Number(exit[1]) };
    const sleep = /^\s*sleep\s+(\S+)\s*$/.exec(script);
    if (sleep) return { runMs: seconds(sleep[1]), exitCode: 0 };
  }
  return { runMs: 0, exitCode: 0 };
}

function seconds(arg: string | undefined): number {
  if (arg === "infinity") return Infinity;
  const n = Number(arg);
  return Number.isFinite(n) && n > 0 ? n * 1000 : 0;
}

/** Waits until the signal aborts, then rejects with its reason. */
function forever(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) return reject(signal.reason);
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}
