import { isIPv4, isIPv6 } from 'node:net'

/**
 * Returns the key that login throttling counts a client address under.
 * IPv4 addresses, also IPv4-mapped IPv6 ones, count one by one. IPv6
 * addresses count by their /64 prefix, because one host is usually given a
 * whole /64 and could otherwise rotate through it.
 */
export function clientAddressKey(address: string | undefined): string {
  if (address === undefined || address === '') return 'unknown'

  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (mapped && isIPv4(mapped[1] as string)) return mapped[1] as string
  if (isIPv4(address) || !isIPv6(address)) return address

  const prefix = expandIPv6(address).slice(0, 4)
    .map((group) => parseInt(group, 16).toString(16))
  return `${prefix.join(':')}::/64`
}

// Expands `::` so the address has eight groups. Only called on strings that
// `isIPv6` accepted. A zone such as `%eth0` is dropped first.
function expandIPv6(address: string): string[] {
  const plain = address.split('%')[0] as string
  const [head = '', tail] = plain.split('::')
  const headGroups = head === '' ? [] : head.split(':')
  if (tail === undefined) return headGroups

  const tailGroups = tail === '' ? [] : tail.split(':')
  const missing = 8 - headGroups.length - tailGroups.length
  return [...headGroups, ...Array<string>(missing).fill('0'), ...tailGroups]
}
