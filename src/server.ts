import type { Server, ServerResponse } from 'node:http'
import { createApp } from './app.ts'
import { ConfigError, loadConfig } from './config.ts'
import { closeGracefully, createHttpServer } from './http/server.ts'
import { describeError, jsonLogger } from './logger.ts'

const logger = jsonLogger()

async function main(): Promise<void> {
  const { server: serverConfig, app: appConfig } = loadConfig(process.env)
  const app = await createApp({ ...appConfig, logger })
  const server = createHttpServer(app.handler, { logger })

  server.listen(serverConfig.port, serverConfig.host, () => {
    const address = server.address()
    const port = typeof address === 'object' && address ? address.port : 0
    logger.info({
      message: 'listening',
      url: `http://${serverConfig.host}:${port}`,
    })
  })

  const endKeepAlive = trackResponses(server)
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    logger.info({ message: 'stopping', signal })
    endKeepAlive()
    closeGracefully(server).then(
      () => {
        logger.info({ message: 'stopped' })
        process.exit(0)
      },
      (error: unknown) => {
        logger.error({ message: 'close failed', error: describeError(error) })
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
}

/**
 * Tracks responses in flight and returns a function that makes them, and
 * every later response, close their connection. Without it, a keep-alive
 * socket that finishes its request after `close()` keeps the process alive
 * until its keep-alive timeout.
 */
function trackResponses(server: Server): () => void {
  const inFlight = new Set<ServerResponse>()
  let ending = false

  const closeAfter = (res: ServerResponse) => {
    if (!res.headersSent) res.setHeader('connection', 'close')
  }
  server.on('request', (_req, res: ServerResponse) => {
    if (ending) closeAfter(res)
    inFlight.add(res)
    res.once('close', () => inFlight.delete(res))
  })

  return () => {
    ending = true
    for (const res of inFlight) closeAfter(res)
  }
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    logger.error({ message: `invalid configuration: ${error.message}` })
  } else {
    logger.error({ message: 'start failed', error: describeError(error) })
  }
  process.exit(1)
})
