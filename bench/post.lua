-- wrk: a JSON order 'created' webhook with fresh ids per request (valid for the
-- reference target, so it answers 202 like it does to webhookload).
math.randomseed(os.time())
local function uuid()
  return (string.gsub("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx", "[xy]", function(c)
    local v = (c == "x") and math.random(0, 15) or math.random(8, 11)
    return string.format("%x", v)
  end))
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  local body = string.format(
    '{"provider_event_id":"%s","order_id":"%s","user_id":"%s","status":"created",' ..
    '"created_at":"2026-11-26T12:00:00Z","updated_at":"2026-11-26T12:00:00Z"}',
    uuid(), uuid(), uuid())
  return wrk.format(nil, nil, nil, body)
end
