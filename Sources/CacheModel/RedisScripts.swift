import NIOCore
import RedisBackend

/// The two Lua scripts that make fills and invalidations safe to race, across any number
/// of gateways sharing one Redis.
///
/// Every invalidation records the writing transaction's id in a short-lived sorted set
/// beside the key (`quicksell:writers:{key}`) and unlinks the key. A fill stores its value
/// only if every recorded writer is visible in the PostgreSQL snapshot the value was read
/// in; otherwise the value predates a write whose invalidation already ran, and storing
/// it would leave stale data behind (the stale-set race). Redis runs each script
/// atomically, so the order in which a fill and an invalidation reach Redis does not
/// matter.
package enum RedisScripts {
    /// How long a writer is remembered: far longer than any fill can take (fills are
    /// bounded by the statement timeout).
    package static let writerMemoryMilliseconds = 60_000

    /// The key's name as a hash tag, so that in a Redis Cluster the writers set lives in the
    /// key's own slot (a script may only touch keys of one slot).
    package static func writersKey(_ key: String) -> String { "quicksell:writers:{" + key + "}" }

    /// KEYS: key1, writers1, key2, writers2, … ARGV: value, ttl ms and snapshot of each key
    /// pair. Stores each value unless a recorded writer of its key is not visible in its
    /// snapshot; returns how many were stored. One call stores a whole fill batch.
    package static let store = RedisScript(sha1: "b41f20bb1e9cd1299e91a6462dd9ae2f95e4e535", body: """
        local stored = 0
        for i = 1, #KEYS, 2 do
          local a = (i - 1) / 2 * 3
          local fresh = true
          local writers = redis.call('ZRANGE', KEYS[i + 1], 0, -1)
          if #writers > 0 then
            local xmin, xmax, xip = string.match(ARGV[a + 3], '^(%d+):(%d+):(.*)$')
            if not xmin then return redis.error_reply('ERR bad snapshot') end
            xmin = tonumber(xmin)
            xmax = tonumber(xmax)
            local running = {}
            for x in string.gmatch(xip, '%d+') do running[tonumber(x)] = true end
            for _, w in ipairs(writers) do
              local xid = tonumber(w)
              if xid >= xmin and (xid >= xmax or running[xid]) then
                fresh = false
                break
              end
            end
          end
          if fresh then
            redis.call('SET', KEYS[i], ARGV[a + 1], 'PX', ARGV[a + 2])
            stored = stored + 1
          end
        end
        return stored
        """)

    /// KEYS: key1, writers1, key2, writers2, … ARGV: memory ms, then the writer xid of
    /// each key pair. Returns the keys unlinked.
    package static let invalidate = RedisScript(sha1: "253add8fe78a43ca5d6ec51c0b5d6d77163585a8", body: """
        local now = redis.call('TIME')
        local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
        local memory = tonumber(ARGV[1])
        local removed = 0
        for i = 1, #KEYS, 2 do
          removed = removed + redis.call('UNLINK', KEYS[i])
          redis.call('ZADD', KEYS[i + 1], nowMs, ARGV[(i + 1) / 2 + 1])
          redis.call('ZREMRANGEBYSCORE', KEYS[i + 1], '-inf', nowMs - memory)
          redis.call('PEXPIRE', KEYS[i + 1], memory)
        end
        return removed
        """)

    /// The Lua test the flush scripts apply to each key SCAN found.
    private static let canonicalFamilyKey = """
    -- Only the family's canonical keys (ARGV[4] is its prefix, empty for a single-key family
    -- that MATCH already named exactly): a shared Redis keeps other applications' keys.
    local function canonical(key)
      if ARGV[4] == '' then return true end
      local id = string.match(key, '^' .. ARGV[4] .. ':([1-9]%d*)$')
      return id ~= nil and (#id < 19 or (#id == 19 and id <= '9223372036854775807'))
    end
    """

    /// `scanUnlink` for a Redis Cluster node: one `UNLINK` per key, since a cluster refuses a
    /// command whose keys are in different slots (the node's keys span many).
    package static let scanUnlinkPerKey = ByteBuffer(string: """
        \(canonicalFamilyKey)
        local step = redis.call('SCAN', ARGV[1], 'MATCH', ARGV[2], 'COUNT', ARGV[3])
        local keys = step[2]
        local removed = 0
        for i = 1, #keys do
          if canonical(keys[i]) then removed = removed + redis.call('UNLINK', keys[i]) end
        end
        return {step[1], removed}
        """)

    /// One step of a family flush. ARGV: cursor, MATCH pattern, COUNT, the family's key prefix
    /// (empty for a leaderboard). Unlinks the family keys that step found; returns {next cursor,
    /// keys unlinked}. Each call is short (one SCAN step), so Redis keeps serving everyone else
    /// between calls.
    package static let scanUnlink = ByteBuffer(string: """
        \(canonicalFamilyKey)
        local step = redis.call('SCAN', ARGV[1], 'MATCH', ARGV[2], 'COUNT', ARGV[3])
        local keys = {}
        for _, key in ipairs(step[2]) do
          if canonical(key) then keys[#keys + 1] = key end
        end
        local removed = 0
        for i = 1, #keys, 500 do
          removed = removed + redis.call('UNLINK', unpack(keys, i, math.min(i + 499, #keys)))
        end
        return {step[1], removed}
        """)
}
