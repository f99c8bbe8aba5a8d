import assert from "node:assert/strict";
import {
  errorFromResponse,
  isAlreadyExists,
  isConflict,
  isGone,
  isNotFound,
  isTooManyRequests,
  KubeApiError,
} from "./errors.ts";

Deno.test("errorFromResponse keeps a Status body as sent", () => {
  const body = JSON.stringify({
    kind: "Status",
    apiVersion: "v1",
    status: "Failure",
    message: 'pods "x" not found',
    reason: "NotFound",
    details: { name: "x", kind: "pods" },
    code: 404,
  });
  const e = errorFromResponse(404, body, "GET /api/v1/namespaces/d/pods/x");
  assert.ok(e instanceof KubeApiError);
  assert.equal(e.code, 404);
  assert.equal(e.reason, "NotFound");
  assert.equal(e.message, 'pods "x" not found');
  assert.equal(e.status.details?.name, "x");
  assert.ok(isNotFound(e));
  assert.ok(!isConflict(e));
});

Deno.test("errorFromResponse synthesises a Status from a plain body", () => {
  const e = errorFromResponse(503, "upstream connect error\n", "GET /api/v1/pods", 3);
  assert.equal(e.code, 503);
  assert.equal(e.reason, "ServiceUnavailable");
  assert.equal(
    e.message,
    "GET /api/v1/pods failed with 503 ServiceUnavailable: upstream connect error",
  );
  assert.equal(e.retryAfterSeconds, 3);
  assert.equal(e.status.kind, "Status");
});

Deno.test("errorFromResponse handles an empty body", () => {
  const e = errorFromResponse(500, "", "DELETE /x");
  assert.equal(e.message, "DELETE /x failed with 500 InternalError");
});

Deno.test("409 helpers tell AlreadyExists from a stale-write conflict", () => {
  const exists = new KubeApiError({ code: 409, reason: "AlreadyExists", message: "exists" });
  const conflict = new KubeApiError({ code: 409, reason: "Conflict", message: "modified" });
  assert.ok(isAlreadyExists(exists) && !isConflict(exists));
  assert.ok(isConflict(conflict) && !isAlreadyExists(conflict));
});

Deno.test("isGone accepts 410 and an Expired reason, isTooManyRequests 429", () => {
  assert.ok(isGone(new KubeApiError({ code: 410, reason: "Gone" })));
  assert.ok(isGone(new KubeApiError({ reason: "Expired", message: "too old" })));
  assert.ok(!isGone(new Error("410")));
  assert.ok(isTooManyRequests(new KubeApiError({ code: 429, reason: "TooManyRequests" })));
  assert.ok(!isTooManyRequests(new KubeApiError({ code: 500 })));
});
