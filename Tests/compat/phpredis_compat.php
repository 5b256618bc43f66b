<?php
// phpredis (Debian's php-redis) against the gateway: php phpredis_compat.php

function check($name, $condition, $detail = '') {
    if (!$condition) {
        echo "FAIL $name $detail\n";
        exit(1);
    }
    echo "ok $name\n";
}

function update_row($sql) {
    $command = escapeshellarg(getenv('QS_PSQL')) . ' ' . escapeshellarg(getenv('QS_PG_URL')) . ' -qAtc ' . escapeshellarg($sql);
    exec($command, $output, $status);
    check('update row', $status === 0);
}

function wait_until($read, $expected) {
    $deadline = microtime(true) + 10;
    $value = '';
    while (microtime(true) < $deadline) {
        $value = $read();
        if (is_string($value) && strpos($value, $expected) !== false) return $value;
        usleep(20000);
    }
    return is_string($value) ? $value : '';
}

function connect($port) {
    $client = new Redis();
    $client->connect('127.0.0.1', $port, 5);
    return $client;
}

$port = (int)getenv('QS_PORT');
$keys = [];
for ($i = 0; $i < 100; $i++) $keys[] = $i % 3 ? 'user:' . ($i % 9 + 1) : 'listing:10';

$r = connect($port);
check('connect', $r->ping() !== false);
check('get', strpos($r->get('user:1'), 'alice') !== false);
$values = $r->mGet(['user:1', 'listing:10', 'user:999999']);
check('mget', strpos($values[0], 'alice') !== false && strpos($values[1], 'Lamp') !== false && $values[2] === false, json_encode($values));
check('exists', $r->exists('user:1', 'user:999999') === 1);
$ttl = $r->ttl('user:1');
check('ttl', $ttl > 0, (string)$ttl);

$singles = [];
foreach (array_unique($keys) as $key) $singles[$key] = $r->get($key);
$expected = array_map(function ($key) use ($singles) { return $singles[$key]; }, $keys);
$pipe = $r->pipeline();
foreach ($keys as $key) $pipe->get($key);
check('pipeline of 100 GETs', $pipe->exec() === $expected);
$replies = $r->multi()->get('user:1')->get('listing:10')->exec();  // the default multi(): MULTI … EXEC
check('default pipeline (multi)', strpos($replies[0], 'alice') !== false && strpos($replies[1], 'Lamp') !== false, json_encode($replies));

$r->watch('user:7');
$before = $r->get('user:7');
check('watch multi exec', $r->multi()->get('user:7')->exec() === [$before]);
$r->watch('user:6');
update_row("UPDATE users SET username = 'frank-php' WHERE id = 6");
$other = connect($port);
check('watched row read fresh', strpos(wait_until(function () use ($other) { return $other->get('user:6'); }, 'frank-php'), 'frank-php') !== false);
check('watch aborts after invalidation', $r->multi()->get('user:6')->exec() === false);

// 20 concurrent requests: 20 processes, each with its own connection.
$expected = array_map(function ($key) use ($r) { return $r->get($key); }, $keys);  // user:6 changed above
$children = [];
for ($i = 0; $i < 20; $i++) {
    $pid = pcntl_fork();
    if ($pid === 0) {
        $child = connect($port);
        exit($child->get($keys[$i]) === $expected[$i] ? 0 : 1);
    }
    $children[] = $pid;
}
$failed = 0;
foreach ($children as $pid) {
    pcntl_waitpid($pid, $status);
    if (pcntl_wexitstatus($status) !== 0) $failed++;
}
check('20 concurrent', $failed === 0, "$failed failed");

$withPassword = connect($port);
check('password the gateway does not need', $withPassword->auth(['default', 'unneeded']) === true && $withPassword->ping() !== false);
$protected = connect((int)getenv('QS_AUTH_PORT'));
check('password required', $protected->auth(getenv('QS_AUTH_PASSWORD')) === true && $protected->ping() !== false);
$wrong = connect((int)getenv('QS_AUTH_PORT'));
try {
    $accepted = $wrong->auth('wrong');
    $error = $wrong->getLastError();
} catch (RedisException $exception) {
    $accepted = false;
    $error = $exception->getMessage();
}
check('wrong password surfaced', $accepted === false && strpos((string)$error, 'invalid username-password pair') !== false, (string)$error);

// phpredis throws on READONLY (it takes it for a replica); other errors are returned as false.
try {
    $r->set('user:1', 'x');
    $refusal = (string)$r->getLastError();
} catch (RedisException $exception) {
    $refusal = $exception->getMessage();
}
check('write refused', strpos($refusal, 'READONLY') === 0, $refusal);
$r = connect($port);
$r->clearLastError();
check('unknown command surfaced', $r->rawCommand('NOSUCHCOMMAND', 'a') === false
    && strpos((string)$r->getLastError(), 'unknown command') !== false, (string)$r->getLastError());

update_row("UPDATE users SET username = 'erin-php' WHERE id = 5");
check('row updated in PostgreSQL read fresh', strpos(wait_until(function () use ($r) { return $r->get('user:5'); }, 'erin-php'), 'erin-php') !== false);
echo "ALL OK\n";
