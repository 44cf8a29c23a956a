const MS_PER_DAY = 86_400_000
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/

/**
 * Parses a `YYYY-MM-DD` calendar date into days since 1970-01-01, or
 * returns `undefined` when the text is not exactly that form or names a day
 * the proleptic Gregorian calendar lacks (2024-02-30, 2023-02-29).
 */
export function parseIsoDay(text: string): number | undefined {
  const match = ISO_DATE.exec(text)
  if (!match) return undefined

  const year = Number(match[1])
  const month = Number(match[2])
  const day = Number(match[3])
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    return undefined
  }
  return daysFromCivil(year, month, day)
}

/** Formats days since 1970-01-01 as `YYYY-MM-DD`. */
export function formatIsoDay(dayNumber: number): string {
  return new Date(dayNumber * MS_PER_DAY).toISOString().slice(0, 10)
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28
  return [4, 6, 9, 11].includes(month) ? 30 : 31
}

function daysFromCivil(year: number, month: number, day: number): number {
  // Date.UTC maps years 0-99 to 1900-1999, so set the year separately.
  const date = new Date(Date.UTC(2000, month - 1, day))
  date.setUTCFullYear(year)
  return Math.round(date.getTime() / MS_PER_DAY)
}
