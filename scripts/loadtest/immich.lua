-- wrk: Immich /predict textual requests (multipart, as Immich's server sends them).
local captions = {"a photo of a cat", "a dog on a beach", "a red apple", "two people riding bicycles", "a bowl of soup"}
local n = 0
local b = "----clipinferloadtest"
wrk.method = "POST"
wrk.headers["Content-Type"] = "multipart/form-data; boundary=" .. b
request = function()
  n = n + 1
  local entries = '{"clip":{"textual":{"modelName":"' .. (os.getenv("MODEL") or "") .. '","options":{"language":"en"}}}}'
  local body = "--" .. b .. '\r\nContent-Disposition: form-data; name="entries"\r\n\r\n' .. entries .. "\r\n" ..
    "--" .. b .. '\r\nContent-Disposition: form-data; name="text"\r\n\r\n' .. captions[n % 5 + 1] .. "\r\n" ..
    "--" .. b .. "--\r\n"
  return wrk.format(nil, "/predict", nil, body)
end
