import { createPolicy, seedWarmImages, startBenchCluster, startBenchOperator } from "./harness.ts";
const flags = Deno.args.filter((a) => a.startsWith("--v8"));
const cluster = await startBenchCluster({ nodes: 5000, timeScale: 0.5 });
await createPolicy(cluster, 100, 0);
await seedWarmImages(cluster, 200);
const op = await startBenchOperator(cluster, { denoFlags: flags });
const t0 = Date.now();
const rss = () => {
  const s = Deno.readTextFileSync(`/proc/${op.pid}/status`);
  const m = (k: string) => Number(s.match(new RegExp(`${k}:\\s+(\\d+)`))?.[1] ?? 0) / 1024;
  return `${m("VmRSS").toFixed(0)} hwm ${m("VmHWM").toFixed(0)}`;
};
for (let i = 0; i < 60; i++) {
  await new Promise((r) => setTimeout(r, 100));
  const logs = op.proc.logs();
  const synced = logs.includes("Caches synced");
  console.log(((Date.now() - t0) / 1000).toFixed(1), rss(), synced ? "synced" : "");
}
await op.stop();
await cluster.stop();
