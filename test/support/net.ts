/** Ports: one nothing listens on, and the login's fixed loopback callback ports held or checked. */
import {createServer, type Server} from 'node:net'

export const LOOPBACK_PORTS = [8400, 8401, 8402, 8403, 8404]

/** A loopback port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => {
    server.listen(0, '127.0.0.1', resolve)
  })
  const {port} = server.address() as {port: number}
  await new Promise<void>(resolve => {
    server.close(() => {
      resolve()
    })
  })
  return port
}

/** Holds the given loopback ports, as other programs would. */
export async function occupyPorts(ports: number[]): Promise<() => Promise<void>> {
  const servers: Server[] = []
  const release = async () => {
    await Promise.all(servers.map(async server => new Promise<void>(resolve => {
      server.close(() => {
        resolve()
      })
    })))
  }

  try {
    for (const port of ports) {
      const server = createServer()

      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(port, '127.0.0.1', () => {
          resolve()
        })
      })
      servers.push(server)
    }
  } catch (error) {
    await release()
    throw error
  }

  return release
}

/** Whether every loopback port can be bound right now (login closed its callback server). */
export async function portsAreFree(ports = LOOPBACK_PORTS): Promise<boolean> {
  try {
    const release = await occupyPorts(ports)
    await release()
    return true
  } catch {
    return false
  }
}
