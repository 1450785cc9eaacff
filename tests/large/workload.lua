-- Lua workload for the coverage build of Lua (tests/large/build.sh), run by
-- lua_driver. Deterministic: fixed random seed, no clock or address in output.
-- It ends with check(), which raises an error (exit status 1) if a result is off.

local failures = 0
local function check(cond, what)
  if not cond then failures = failures + 1; print("FAIL " .. what) end
end

math.randomseed(42)

-- tables: array part, hash part, rehash, removal, sort, concat, move, unpack
local t = {}
for i = 1, 2000 do t[i] = (i * 7919) % 1009 end
for i = 1, 500 do t["k" .. i] = i end
for i = 1, 500, 3 do t["k" .. i] = nil end
table.sort(t)
check(t[1] <= t[2] and t[1999] <= t[2000], "sort")
table.sort(t, function(a, b) return a > b end)
check(t[1] >= t[2], "sort desc")
local small = {3, 1, 2}
table.insert(small, 4); table.insert(small, 1, 0); check(table.remove(small) == 4, "remove")
check(table.concat(small, ",") == "0,3,1,2", "concat")
check(select("#", table.unpack({1, 2, 3})) == 3, "unpack")
local moved = table.move({1, 2, 3, 4, 5}, 2, 4, 1, {})
check(#moved == 3 and moved[1] == 2, "move")
local packed = table.pack(1, nil, 3)
check(packed.n == 3, "pack")
local count = 0
for k, v in pairs(t) do count = count + 1 end
check(count > 2000, "pairs")
for i, v in ipairs({10, 20, 30}) do count = count + i + v end
local mixed = {1, 2, 3, x = 1, [2.5] = "f", [true] = "b"}
check(mixed[2.5] == "f" and mixed[true] == "b" and #mixed == 3, "mixed keys")

-- strings: format, find, match, gsub, gmatch, rep, byte/char, pack
local s = string.format("%d %5.2f %s %q %x %g %-5s| %c %o %e %a %i", 42, math.pi, "str", 'q"uote\n', 255, 1e20, "ab", 65, 8, 12345.678, 1.0, 7)
check(#s > 40, "format")
check(string.format("%10.3s|", "abcdef") == "       abc|", "format width")
check(("hello world"):find("o w") == 5, "find")
check(("hello world"):find("l+", 1) == 3, "find pattern")
check(("key = value"):match("^(%w+)%s*=%s*(%w+)$") == "key", "match")
local replaced, n = ("the quick brown fox"):gsub("%w+", function(w) return w:upper() end)
check(n == 4 and replaced == "THE QUICK BROWN FOX", "gsub fn")
check(("a,b,,c"):gsub(",", ";") == "a;b;;c", "gsub str")
check(("abc"):gsub("%w", {a = "1", b = false}) == "1bc", "gsub table")
local words = {}
for w in ("one two  three"):gmatch("%a+") do words[#words + 1] = w end
check(#words == 3, "gmatch")
check(("x"):rep(3, "-") == "x-x-x", "rep")
check(string.char(("AZ"):byte(1, 2)) == "AZ", "byte/char")
check(("Hello"):lower() == "hello" and ("Hello"):upper() == "HELLO" and ("abc"):reverse() == "cba", "case")
check(("  trim  "):match("^%s*(.-)%s*$") == "trim", "lazy match")
check(("%bxy"):len() == 4 and ("(a(b)c)"):match("%b()") == "(a(b)c)", "balanced")
check(("THE (quick) fox"):find("%f[%a]%a+%f[%A]") == 1, "frontier")
local packed_s = string.pack("<i4 d s1 z", -7, 2.5, "hi", "zero")
local a, b, c, d = string.unpack("<i4 d s1 z", packed_s)
check(a == -7 and b == 2.5 and c == "hi" and d == "zero", "pack/unpack")
check(string.packsize("i4i8") == 12 and string.packsize("!8i4i8") == 16, "packsize")
check(utf8.char(72, 228, 8364) == "Hä€" and utf8.len("Hä€") == 3, "utf8")
for p, cp in utf8.codes("añb") do count = count + cp end
check(tostring(12) == "12" and tonumber("0x1F") == 31 and tonumber("z", 36) == 35 and tonumber("1e2") == 100.0, "conversions")
check(math.type(1) == "integer" and math.type(1.0) == "float" and math.type("1") == nil, "math.type")
check(3 // 2 == 1 and 3.0 // 2 == 1.0 and -7 % 3 == 2 and 2^10 == 1024.0 and 7 & 3 == 3 and 1 << 4 == 16 and ~0 == -1, "arith")
check(math.floor(-2.5) == -3 and math.ceil(2.1) == 3 and math.max(1, 9, 3) == 9 and math.abs(-4) == 4, "math")
check(math.tointeger(3.0) == 3 and math.ult(1, -1) and math.fmod(7, 3) == 1, "math2")
local r = math.random(1, 100); check(r >= 1 and r <= 100, "random")
check(math.huge > 1e308 and -math.huge < 0 and (0/0) ~= (0/0), "inf/nan")
check("10" + 5 == 15 and "3" * "4" == 12 and 10 .. 20 == "1020", "coercion")

-- closures, upvalues, varargs, recursion, tail calls
local function counter()
  local n = 0
  return function(step) n = n + (step or 1); return n end
end
local c1, c2 = counter(), counter()
c1(); c1(5); c2()
check(c1() == 7 and c2() == 2, "closures")
local function sum(...)
  local total = 0
  for i = 1, select("#", ...) do total = total + (select(i, ...) or 0) end
  return total
end
check(sum(1, 2, nil, 4) == 7, "varargs")
local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end
check(fib(20) == 6765, "fib")
local function loop(n, acc) if n == 0 then return acc end return loop(n - 1, acc + n) end
check(loop(100000, 0) == 5000050000, "tail calls")
local adders = {}
for i = 1, 10 do adders[i] = function(x) return x + i end end
check(adders[3](10) == 13, "loop upvalues")
goto skip
check(false, "goto")
::skip::

-- metatables and OOP
local Vec = {}
Vec.__index = Vec
function Vec.new(x, y) return setmetatable({x = x, y = y}, Vec) end
Vec.__add = function(a, b) return Vec.new(a.x + b.x, a.y + b.y) end
Vec.__eq = function(a, b) return a.x == b.x and a.y == b.y end
Vec.__lt = function(a, b) return a:len2() < b:len2() end
Vec.__le = function(a, b) return a:len2() <= b:len2() end
Vec.__tostring = function(v) return "(" .. v.x .. "," .. v.y .. ")" end
Vec.__len = function() return 2 end
Vec.__call = function(v, k) return v[k] end
Vec.__concat = function(a, b) return tostring(a) .. tostring(b) end
Vec.__unm = function(a) return Vec.new(-a.x, -a.y) end
function Vec:len2() return self.x * self.x + self.y * self.y end
local v = Vec.new(1, 2) + Vec.new(3, 4)
check(v == Vec.new(4, 6) and tostring(v) == "(4,6)" and #v == 2 and v("x") == 4, "metamethods")
check(Vec.new(1, 1) < Vec.new(2, 2) and Vec.new(1, 1) <= Vec.new(1, 1) and (-v).x == -4, "compare")
check((v .. v) == "(4,6)(4,6)", "concat mm")
local defaults = setmetatable({}, {__index = function(_, k) return k * 2 end, __newindex = function(t2, k, val) rawset(t2, k, val + 1) end})
defaults[1] = 10
check(defaults[1] == 11 and defaults[5] == 10 and rawget(defaults, 5) == nil, "index/newindex")
local weak = setmetatable({}, {__mode = "k"})
weak[{}] = 1
local closed = false
do
  local res <close> = setmetatable({}, {__close = function() closed = true end})
end
check(closed, "to-be-closed")
local gced = 0
do setmetatable({}, {__gc = function() gced = gced + 1 end}) end
collectgarbage(); collectgarbage()
check(gced == 1, "__gc")
check(next(weak) == nil, "weak table")

-- coroutines
local gen = coroutine.wrap(function()
  for i = 1, 5 do coroutine.yield(i * i) end
  return "done"
end)
local squares = {}
for _ = 1, 5 do squares[#squares + 1] = gen() end
check(squares[5] == 25 and gen() == "done", "coroutine.wrap")
local co = coroutine.create(function(a, b)
  local x = coroutine.yield(a + b)
  local y, z = coroutine.yield(x * 2)
  error("inside " .. (y + z))
end)
local ok1, r1 = coroutine.resume(co, 1, 2)
local ok2, r2 = coroutine.resume(co, 10)
local ok3, r3 = coroutine.resume(co, 3, 4)
check(ok1 and r1 == 3 and ok2 and r2 == 20 and not ok3 and r3:find("inside 7"), "coroutine errors")
check(coroutine.status(co) == "dead" and not coroutine.isyieldable(), "status")
local producer = coroutine.create(function() for i = 1, 3 do coroutine.yield("item" .. i) end end)
local got = {}
while true do
  local ok, item = coroutine.resume(producer)
  if not item then break end
  got[#got + 1] = item
end
check(#got == 3, "producer")
local closable = coroutine.create(function() coroutine.yield() end)
coroutine.resume(closable)
check(coroutine.close(closable), "coroutine.close")

-- errors caught by pcall/xpcall
local ok, err = pcall(error, "plain")
check(not ok and err == "plain", "pcall error")
ok, err = pcall(function() local x = nil; return x.field end)
check(not ok and err:find("attempt to index"), "index nil")
ok, err = pcall(function() return 1 + {} end)
check(not ok and err:find("arithmetic"), "arith error")
ok, err = pcall(function() return #5 end)
check(not ok, "length error")
ok, err = pcall(function() error({code = 42}) end)
check(not ok and err.code == 42, "error object")
ok, err = pcall(function() error("level2", 2) end)
check(not ok, "error level")
ok, err = xpcall(function() local t2 = setmetatable({}, {__index = function() error("deep") end}); return t2.x end,
                 function(m) return "handled: " .. m end)
check(not ok and err:find("handled: .*deep"), "xpcall")
ok, err = pcall(string.rep)
check(not ok and err:find("bad argument"), "bad argument")
ok, err = pcall(setmetatable, 1, {})
check(not ok, "setmetatable error")
ok, err = pcall(function() local a2 <const> = 1; return ("x"):bad() end)
check(not ok, "method error")
check(select(2, pcall(string.format, "%d", 1.5)):find("number has no integer representation"), "format error")
local depth = 0
local function deep() depth = depth + 1; return deep() + 1 end
ok, err = pcall(deep)
check(not ok and err:find("stack overflow"), "stack overflow")

-- load, string dumping, environments
local f = load("local a, b = ... return a * b")
check(f(6, 7) == 42, "load")
local env = {print = print, x = 5}
local g = load("y = x * 2 return y", "chunk", "t", env)
check(g() == 10 and env.y == 10, "load env")
local bad, msg = load("return +")
check(bad == nil and msg:find("unexpected symbol"), "syntax error")
local dumped = string.dump(function(a2) return a2 + 1 end)
local undumped = load(dumped, "dumped", "b")
check(undumped(1) == 2, "dump/undump")
local parts, i2 = {"return ", "1 ", "+ 2"}, 0
check(load(function() i2 = i2 + 1; return parts[i2] end)() == 3, "load reader")

-- os, io and debug libraries (no clock or random name in the output or the control flow)
check(type(os.time()) == "number" and type(os.clock()) == "number", "os")
check(os.date("!%Y-%m-%d", 0) == "1970-01-01", "os.date")
check(os.getenv("LUA_DRIVER_NO_SUCH_VAR") == nil, "getenv")
local tmp = "lua_workload.tmp"  -- in the current directory: os.tmpname() is random
local fh = assert(io.open(tmp, "w"))
fh:write("line one\n", 2, "\n", 3.5, "\nlast")
fh:close()
local lines = {}
for line in io.lines(tmp) do lines[#lines + 1] = line end
check(#lines == 4 and lines[4] == "last", "io.lines")
fh = assert(io.open(tmp, "r"))
check(fh:read("l") == "line one" and fh:read("n") == 2 and fh:seek("set", 0) == 0 and #fh:read("a") > 10, "io read")
fh:close()
check(io.type(fh) == "closed file", "io.type")
os.remove(tmp)
check(select(2, io.open("/nonexistent/dir/file")) ~= nil, "io.open error")
local info = debug.getinfo(1, "Sl")
check(info.short_src ~= nil and info.currentline > 0, "debug.getinfo")
local lname = debug.getlocal(1, 1)
check(lname == "failures", "debug.getlocal")
local hooks = 0
debug.sethook(function() hooks = hooks + 1 end, "l")
for _ = 1, 3 do hooks = hooks + 0 end
debug.sethook()
check(hooks > 0, "hooks")
check(debug.traceback("tb"):find("stack traceback"), "traceback")

-- a bigger computation: word frequencies and a sieve
local text = string.rep("the cat and the hat sat on the mat with a bat ", 200)
local freq = {}
for w in text:gmatch("%a+") do freq[w] = (freq[w] or 0) + 1 end
check(freq.the == 600, "freq")
local sieve, primes = {}, 0
for i = 2, 20000 do
  if not sieve[i] then primes = primes + 1; for j = i * i, 20000, i do sieve[j] = true end end
end
check(primes == 2262, "sieve")
local buf = {}
for i = 1, 5000 do buf[#buf + 1] = string.format("%04d", i % 10000) end
check(#table.concat(buf) == 20000, "buffer")
check(collectgarbage("count") > 0, "collectgarbage count")
collectgarbage("generational"); collectgarbage("step"); collectgarbage("incremental")

print(string.format("workload.lua: %d checks failed", failures))
if failures > 0 then error("workload.lua: some checks failed") end
