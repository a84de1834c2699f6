/**
 * Interop with the official CLI's side of the config file: Python's tomllib,
 * and the `toml` 0.10 library the official CLI reads and writes with (Debian's
 * python3-toml, for the system Python 3).
 */
import {execFile} from 'node:child_process'

const PYTHON = '/usr/bin/python3'

async function run(file: string, args: string[]): Promise<{stdout: string}> {
  return new Promise((resolve, reject) => {
    execFile(file, args, (error, stdout) => {
      if (error) reject(new Error(`python failed: ${error.message}`))
      else resolve({stdout})
    })
  })
}

/** Loads a TOML file in Python with `tomllib` or `toml` and returns the data as JSON (floats kept as numbers). */
export async function pythonLoad(file: string, library: 'toml' | 'tomllib'): Promise<Record<string, unknown>> {
  const script =
    library === 'tomllib'
      ? 'import sys, json, tomllib\nwith open(sys.argv[1], "rb") as f: print(json.dumps(tomllib.load(f)))'
      : 'import sys, json, toml\nwith open(sys.argv[1]) as f: print(json.dumps(toml.load(f)))'
  const {stdout} = await run(PYTHON, ['-c', script, file])
  return JSON.parse(stdout) as Record<string, unknown>
}

/** Writes data (given as JSON) to a TOML file with `toml.dump`, as the official CLI does. */
export async function pythonDump(file: string, data: Record<string, unknown>): Promise<void> {
  const script = 'import sys, json, toml\nwith open(sys.argv[1], "w") as f: toml.dump(json.loads(sys.argv[2]), f)'
  await run(PYTHON, ['-c', script, file, JSON.stringify(data)])
}
