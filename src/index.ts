export { createApp, type App, type CreateAppOptions } from './app.ts'
export { ConfigError, loadConfig, type AppConfig } from './config.ts'
export { closeGracefully, createHttpServer } from './http/server.ts'
export { HttpError } from './http/errors.ts'
export {
  compress,
  decompress,
  type DecompressOptions,
} from './compress/rle.ts'
export {
  ZLIB_ALGORITHMS,
  zlibCompress,
  zlibDecompress,
  type ZlibAlgorithm,
  type ZlibDecompressOptions,
} from './compress/zlib-codecs.ts'
export { jsonLogger, silentLogger, type Logger } from './logger.ts'
export {
  MemoryUserStore,
  type Role,
  type User,
  type UserStore,
} from './auth/user-store.ts'
export type * from './sales/types.ts'
