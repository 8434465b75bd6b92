-- bench/wkd.lua: a wrk script for wkdd.  Each request is a key lookup
-- chosen at random from a list file of bench/gen's lines ("address domain
-- hash blob"), on one of the two WKD layouts at random:
--   advanced  Host openpgpkey.D, /.well-known/openpgpkey/D/hu/HASH
--   direct    Host D,            /.well-known/openpgpkey/hu/HASH
-- Used as: wrk -s bench/wkd.lua https://127.0.0.1:PORT/ -- LIST
-- (the URL's IP literal is no TLS server name: wkdd goes by Host).

local hosts, paths = {}, {}
local nthreads = 0

function setup(thread)
	nthreads = nthreads + 1
	thread:set("seed", nthreads)
end

function init(args)
	local f = assert(io.open(args[1], "r"))
	for line in f:lines() do
		local dom, hash = line:match("^%S+ (%S+) (%S+)")
		if dom then
			hosts[#hosts + 1] = "openpgpkey." .. dom
			paths[#paths + 1] = "/.well-known/openpgpkey/" .. dom ..
			    "/hu/" .. hash
			hosts[#hosts + 1] = dom
			paths[#paths + 1] = "/.well-known/openpgpkey/hu/" .. hash
		end
	end
	f:close()
	assert(#paths > 0, args[1] .. ": no address")
	math.randomseed(os.time() * 100 + (seed or 0))
end

function request()
	local i = math.random(#paths)
	return wrk.format("GET", paths[i], { Host = hosts[i] })
end
