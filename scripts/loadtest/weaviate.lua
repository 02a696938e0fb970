-- wrk: Weaviate /vectorize text requests, images null as its Go client sends them.
local captions = {"a photo of a cat", "a dog on a beach", "a red apple", "two people riding bicycles", "a bowl of soup"}
local n = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  return wrk.format(nil, "/vectorize", nil, '{"texts":["' .. captions[n % 5 + 1] .. '"],"images":null}')
end
