-- wrk: clipinfer's own embeddings form, one of five captions each.
local captions = {"a photo of a cat", "a dog on a beach", "a red apple", "two people riding bicycles", "a bowl of soup"}
local n = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  return wrk.format(nil, "/v1/embeddings", nil, '{"texts":["' .. captions[n % 5 + 1] .. '"]}')
end
