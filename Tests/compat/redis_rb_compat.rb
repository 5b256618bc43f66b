# redis-rb (Debian's ruby-redis) against the gateway: ruby redis_rb_compat.rb
require 'redis'

def check(name, condition, detail = '')
  unless condition
    puts "FAIL #{name} #{detail}"
    exit 1
  end
  puts "ok #{name}"
end

def update_row(sql)
  check('update row', system(ENV.fetch('QS_PSQL'), ENV.fetch('QS_PG_URL'), '-qAtc', sql))
end

def wait_until(expected)
  deadline = Time.now + 10
  value = nil
  while Time.now < deadline
    value = yield
    return value if value&.include?(expected)
    sleep 0.02
  end
  value.to_s
end

def error_of
  yield
  nil
rescue Redis::BaseError => e
  e
end

port = Integer(ENV.fetch('QS_PORT'))
keys = (0...100).map { |i| i % 3 != 0 ? "user:#{i % 9 + 1}" : 'listing:10' }

r = Redis.new(host: '127.0.0.1', port: port)
check('connect', r.ping == 'PONG')
check('get', r.get('user:1').include?('alice'))
values = r.mget('user:1', 'listing:10', 'user:999999')
check('mget', values[0].include?('alice') && values[1].include?('Lamp') && values[2].nil?, values.inspect)
check('exists', r.exists('user:1', 'user:999999') == 1)
ttl = r.ttl('user:1')
check('ttl', ttl.positive?, ttl.to_s)

singles = keys.uniq.to_h { |key| [key, r.get(key)] }
expected = keys.map { |key| singles[key] }
piped = r.pipelined { |pipe| keys.each { |key| pipe.get(key) } }
check('pipeline of 100 GETs', piped == expected)
replies = r.multi { |transaction| transaction.get('user:1'); transaction.get('listing:10') }
check('default pipeline (multi)', replies[0].include?('alice') && replies[1].include?('Lamp'), replies.inspect)

before = nil
replies = r.watch('user:7') do |client|
  before = client.get('user:7')
  client.multi { |transaction| transaction.get('user:7') }
end
check('watch multi exec', replies == [before], replies.inspect)
other = Redis.new(host: '127.0.0.1', port: port)
replies = r.watch('user:6') do |client|
  update_row("UPDATE users SET username = 'frank-rb' WHERE id = 6")
  check('watched row read fresh', wait_until('frank-rb') { other.get('user:6') }.include?('frank-rb'))
  client.multi { |transaction| transaction.get('user:6') }
end
check('watch aborts after invalidation', replies.nil?, replies.inspect)

expected = keys.map { |key| r.get(key) } # user:6 changed above
concurrent = keys.first(20).map { |key| Thread.new { Redis.new(host: '127.0.0.1', port: port).get(key) } }.map(&:value)
check('20 concurrent', concurrent == expected.first(20))

with_password = Redis.new(host: '127.0.0.1', port: port, username: 'default', password: 'unneeded')
check('password the gateway does not need', with_password.ping == 'PONG')
protected_client = Redis.new(host: '127.0.0.1', port: Integer(ENV.fetch('QS_AUTH_PORT')), password: ENV.fetch('QS_AUTH_PASSWORD'))
check('password required', protected_client.ping == 'PONG')
wrong = error_of { Redis.new(host: '127.0.0.1', port: Integer(ENV.fetch('QS_AUTH_PORT')), password: 'wrong').ping }
check('wrong password surfaced', wrong.to_s.include?('invalid username-password pair'), wrong.inspect)

write = error_of { r.set('user:1', 'x') }
check('write refused', write.is_a?(Redis::CommandError) && write.message.start_with?('READONLY'), write.inspect)
unknown = error_of { r.call('NOSUCHCOMMAND', 'a') }
check('unknown command surfaced', unknown.is_a?(Redis::CommandError) && unknown.message.include?('unknown command'), unknown.inspect)

update_row("UPDATE users SET username = 'erin-rb' WHERE id = 5")
check('row updated in PostgreSQL read fresh', wait_until('erin-rb') { r.get('user:5') }.include?('erin-rb'))
puts 'ALL OK'
