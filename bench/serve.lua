-- bench/serve.lua: wrk script of bench/serve.sh, the same requests for
-- wkdd and nginx: a direct-method key lookup (Host: debian.org,
-- /.well-known/openpgpkey/hu/HASH), HASH drawn at random from a list
-- file of one hash a line, and in MISS percent of requests (default 10)
-- a hash that no key has (404).  "close" adds Connection: close: a new
-- connection per request.
--   wrk -s bench/serve.lua https://127.0.0.1:PORT/ -- LIST [MISS [close]]

local hashes = {}
local miss = 10
local close = false
local nthreads = 0
local zb32 = "ybndrfg8ejkmcpqxot1uwisza345h769"

function setup(thread)
	nthreads = nthreads + 1
	thread:set("seed", nthreads)
end

function init(args)
	local f = assert(io.open(args[1], "r"))
	for line in f:lines() do
		if #line == 32 then
			hashes[#hashes + 1] = line
		end
	end
	f:close()
	assert(#hashes > 0, args[1] .. ": no hash")
	miss = tonumber(args[2] or "10")
	close = args[3] == "close"
	math.randomseed(os.time() * 100 + (seed or 0))
end

-- A hash of 32 z-base-32 characters starting "yyyy": no key's, in
-- practice (the chance of one is 2^-20 a request).
local function nohash()
	local t = { "yyyy" }
	for i = 5, 32 do
		local k = math.random(#zb32)
		t[#t + 1] = zb32:sub(k, k)
	end
	return table.concat(t)
end

function request()
	local h
	if math.random(100) <= miss then
		h = nohash()
	else
		h = hashes[math.random(#hashes)]
	end
	local hdr = { Host = "debian.org" }
	if close then
		hdr["Connection"] = "close"
	end
	return wrk.format("GET", "/.well-known/openpgpkey/hu/" .. h, hdr)
end
