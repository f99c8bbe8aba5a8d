/**
 * Test fixtures for the pacing engine: a settable clock and short builders.
 *
 * @module
 */
import {
  type AcquireResult,
  PacingEngine,
  type PacingEngineOptions,
  type PullPodView,
} from "./engine.ts";
import type { NodeNeed } from "./_demand.ts";

/** A clock the test moves by hand. */
export class FakeClock {
  now = 1_000_000;
  readonly read = (): number => this.now;
  advance(ms: number): void {
    this.now += ms;
  }
}

/** An engine on a fake clock that records the images it wakes. */
export function testEngine(opts: PacingEngineOptions = {}): {
  engine: PacingEngine;
  clock: FakeClock;
  woken: string[];
} {
  const clock = new FakeClock();
  const woken: string[] = [];
  const engine = new PacingEngine({
    now: clock.read,
    onWake: (image) => woken.push(image),
    ...opts,
  });
  return { engine, clock, woken };
}

/** Nodes `names`, the first joined most recently (joinedAt descending by position). */
export function needs(...names: string[]): NodeNeed[] {
  return names.map((name, i) => ({ name, joinedAt: 1_000 - i }));
}

/** A pull Pod view for `image` on `node`. */
export function podView(
  image: string,
  node: string,
  budget: string,
  createdAt: number,
  active = true,
): PullPodView {
  return { key: `drop-system/${image}-${node}`, image, node, budget, createdAt, active };
}

/** An acquire result without its timestamp, for comparing whole decisions. */
export function decision(r: AcquireResult): Omit<AcquireResult, "at"> {
  const { at: _at, ...rest } = r;
  return rest;
}
