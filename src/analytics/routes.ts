import type { Reply, RequestContext, Route } from '../http/context.ts'
import {
  choiceParam,
  dayRangeParams,
  integerParam,
} from '../http/query.ts'
import { formatIsoDay } from '../sales/calendar.ts'
import { averageAmount, unitsToAmount } from '../sales/money.ts'
import type { DayRange } from '../sales/types.ts'
import type { AppServices } from '../services.ts'
import {
  byDateDoc,
  summaryDoc,
  topCustomersDoc,
} from './route-docs.ts'

export const TOP_LIMIT = { default: 3, min: 1, max: 1000 }
export const PAGE_LIMIT = { default: 1000, min: 1, max: 10_000 }
const OFFSET = { default: 0, min: 0, max: Number.MAX_SAFE_INTEGER }
const GROUPS = ['day'] as const

/**
 * `GET /analytics/summary`, `/analytics/top-customers` and
 * `/analytics/by-date`, for admins only. Money is summed in integer units
 * by the store and rounded half-up to cents only here.
 */
export function analyticsRoutes(services: AppServices): Route[] {
  const admin = (handle: (context: RequestContext) => Promise<Reply>) =>
    async (context: RequestContext): Promise<Reply> => {
      await services.guards.requireAdmin(context)
      return handle(context)
    }

  return [
    {
      method: 'GET',
      path: '/analytics/summary',
      handler: admin((context) => summary(services, context)),
      doc: summaryDoc,
    },
    {
      method: 'GET',
      path: '/analytics/top-customers',
      handler: admin((context) => topCustomers(services, context)),
      doc: topCustomersDoc,
    },
    {
      method: 'GET',
      path: '/analytics/by-date',
      handler: admin((context) => byDate(services, context)),
      doc: byDateDoc,
    },
  ]
}

async function summary(
  services: AppServices,
  context: RequestContext,
): Promise<Reply> {
  const range = dayRangeParams(context.url.searchParams)

  const totals = await services.sales.summary(range)

  return {
    status: 200,
    body: {
      total_sales: unitsToAmount(totals.totalUnits),
      total_transactions: totals.count,
      average_order_value: averageAmount(totals.totalUnits, totals.count),
    },
  }
}

async function topCustomers(
  services: AppServices,
  context: RequestContext,
): Promise<Reply> {
  const params = context.url.searchParams
  const range = dayRangeParams(params)
  const limit = integerParam(params, 'limit', TOP_LIMIT)

  const customers = await services.sales.topCustomers(limit, range)

  return {
    status: 200,
    body: {
      limit,
      customers: customers.map((customer, i) => ({
        rank: i + 1,
        customer_name: customer.customerName,
        total_sales: unitsToAmount(customer.totalUnits),
        transaction_count: customer.count,
      })),
    },
  }
}

async function byDate(
  services: AppServices,
  context: RequestContext,
): Promise<Reply> {
  const params = context.url.searchParams
  const range = dayRangeParams(params)
  const group = choiceParam(params, 'group', GROUPS)
  const limit = integerParam(params, 'limit', PAGE_LIMIT)
  const offset = integerParam(params, 'offset', OFFSET)

  const listing = group === 'day'
    ? await dayListing(services, range, offset, limit)
    : await saleListing(services, range, offset, limit)

  return {
    status: 200,
    body: {
      from: range.from === undefined ? null : formatIsoDay(range.from),
      to: range.to === undefined ? null : formatIsoDay(range.to),
      total_sales: unitsToAmount(listing.totalUnits),
      total_transactions: listing.count,
      ...listing.items,
      limit,
      offset,
      next_offset: listing.nextOffset,
    },
  }
}

interface Listing {
  totalUnits: number
  count: number
  items: Record<string, unknown[]>
  nextOffset: number | null
}

async function saleListing(
  services: AppServices,
  range: DayRange,
  offset: number,
  limit: number,
): Promise<Listing> {
  // Both calls start in the same tick, so a store that computes without
  // awaiting (the memory store) reads the totals and the page from the same
  // state even while an upload is landing.
  const [totals, records] = await Promise.all([
    services.sales.summary(range),
    services.sales.page(range, offset, limit),
  ])
  const end = offset + records.length
  return {
    totalUnits: totals.totalUnits,
    count: totals.count,
    items: {
      sales: records.map((record) => ({
        customer_name: record.customerName,
        amount: unitsToAmount(record.units),
        date: formatIsoDay(record.day),
      })),
    },
    nextOffset: end < totals.count ? end : null,
  }
}

async function dayListing(
  services: AppServices,
  range: DayRange,
  offset: number,
  limit: number,
): Promise<Listing> {
  const [totals, days] = await Promise.all([
    services.sales.summary(range),
    services.sales.days(range),
  ])
  const end = Math.min(offset + limit, days.length)
  return {
    totalUnits: totals.totalUnits,
    count: totals.count,
    items: {
      days: days.slice(offset, end).map((day) => ({
        date: formatIsoDay(day.day),
        total_sales: unitsToAmount(day.totalUnits),
        transaction_count: day.count,
      })),
    },
    nextOffset: end < days.length ? end : null,
  }
}
