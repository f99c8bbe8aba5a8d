/**
 * helm for the deploy tests: where to find it, and a scratch copy of the charts to run it on.
 *
 * helm is looked up in $TEST_ASSET_HELM, $DROP_HELM (printed by `.ci/build_control_plane.sh
 * --print-env`), the newest `$DROP_ASSETS_DIR/helm/<version>-linux-amd64/helm` (default
 * `$HOME/.cache/drop/assets`, where that script builds it), then $PATH.
 *
 * @module
 */

/** Result of one helm run. */
export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs helm with its own cache and config directories, in the scratch directory. */
export type Helm = (args: string[]) => Promise<HelmResult>;

/** The repository's charts. */
export const CHARTS = new URL("../deploy/charts", import.meta.url).pathname;

function isExecutable(path: string): boolean {
  try {
    const st = Deno.statSync(path);
    return st.isFile && ((st.mode ?? 0o111) & 0o111) !== 0;
  } catch {
    return false;
  }
}

function versionKey(v: string): number[] {
  return v.split(/[.-]/).slice(0, 3).map((n) => Number(n) || 0);
}

/** The helm binary, or in one line why there is none. */
export function findHelm(
  env: (name: string) => string | undefined = (name) => Deno.env.get(name),
): { helm: string } | { skip: string } {
  for (const name of ["TEST_ASSET_HELM", "DROP_HELM"]) {
    const path = env(name);
    if (!path) continue;
    return isExecutable(path)
      ? { helm: path }
      : { skip: `${name}=${path} is not an executable file` };
  }
  const home = env("HOME");
  const root = env("DROP_ASSETS_DIR") ?? (home ? `${home}/.cache/drop/assets` : undefined);
  if (root) {
    let versions: string[] = [];
    try {
      versions = [...Deno.readDirSync(`${root}/helm`)].map((e) => e.name);
    } catch {
      // No build cache.
    }
    versions.sort((a, b) => {
      const [ka, kb] = [versionKey(a), versionKey(b)];
      for (let i = 0; i < 3; i++) if (ka[i] !== kb[i]) return kb[i] - ka[i];
      return 0;
    });
    for (const v of versions) {
      if (isExecutable(`${root}/helm/${v}/helm`)) return { helm: `${root}/helm/${v}/helm` };
    }
  }
  for (const dir of (env("PATH") ?? "").split(":")) {
    if (dir && isExecutable(`${dir}/helm`)) return { helm: `${dir}/helm` };
  }
  return {
    skip: "no helm: TEST_ASSET_HELM and DROP_HELM are unset, the build cache has none " +
      "(run .ci/build_control_plane.sh) and none is on PATH",
  };
}

async function copyDir(from: string, to: string, keep: (name: string) => boolean): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    if (!keep(e.name)) continue;
    if (e.isDirectory) await copyDir(`${from}/${e.name}`, `${to}/${e.name}`, () => true);
    else if (e.isFile) await Deno.copyFile(`${from}/${e.name}`, `${to}/${e.name}`);
  }
}

/**
 * Runs `fn` on a scratch copy of both charts (`<dir>/drop`, `<dir>/drop-crds`) with the drop
 * chart's dependency built, as a release pipeline packages it. helm gets its own cache and config
 * directories, so the tree and the user's helm setup stay untouched.
 */
export async function withCharts<T>(
  helmPath: string,
  fn: (helm: Helm, dir: string) => Promise<T>,
): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "drop-charts-" });
  try {
    for (const chart of ["drop", "drop-crds"]) {
      // A local `helm dependency build` leaves charts/ and Chart.lock behind; build afresh.
      await copyDir(
        `${CHARTS}/${chart}`,
        `${dir}/${chart}`,
        (name) => name !== "charts" && name !== "Chart.lock",
      );
    }
    const env = {
      HELM_CACHE_HOME: `${dir}/.helm/cache`,
      HELM_CONFIG_HOME: `${dir}/.helm/config`,
      HELM_DATA_HOME: `${dir}/.helm/data`,
    };
    const helm: Helm = async (args) => {
      const out = await new Deno.Command(helmPath, { args, env, cwd: dir, stdin: "null" }).output();
      const dec = new TextDecoder();
      return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
    };
    const dep = await helm(["dependency", "build", "--skip-refresh", `${dir}/drop`]);
    if (dep.code !== 0) throw new Error(`helm dependency build failed: ${dep.stderr.trim()}`);
    return await fn(helm, dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
