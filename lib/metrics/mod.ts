/**
 * Metrics and the HTTP endpoints of the operator: `/metrics`, `/healthz` and `/readyz`.
 *
 * @module
 */
export { DropMetrics } from "./metrics.ts";
export { parseBindAddress, type ProbeServer, startProbeServers } from "./server.ts";
