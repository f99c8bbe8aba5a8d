/**
 * The reconcilers and the operator that runs them.
 *
 * @module
 */
export { type Operator, type OperatorOptions, startOperator } from "./manager.ts";
export { readSecretData, secretData } from "./secrets.ts";
