import type { Guards } from './auth/guards.ts'
import type { TokenService } from './auth/tokens.ts'
import type { UserStore } from './auth/user-store.ts'
import type { AppConfig } from './config.ts'
import type { Logger } from './logger.ts'
import type { SalesStore } from './sales/types.ts'

/** Dependencies of the route modules: settings, stores and auth. */
export interface AppServices {
  config: AppConfig
  logger: Logger
  now: () => number
  users: UserStore
  tokens: TokenService
  guards: Guards
  sales: SalesStore
}
