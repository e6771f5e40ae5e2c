mg.write("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n")
local db, code, msg = sqlite3.open(mg.document_root .. "/../kite-test.db")
if not db then mg.write("open failed ", tostring(code), " ", tostring(msg), "\n") return end
db:exec([[CREATE TABLE IF NOT EXISTS hits (id INTEGER PRIMARY KEY AUTOINCREMENT, uri NOT NULL, n);]])
local stmt = db:prepare("INSERT INTO hits VALUES (NULL, ?, ?);")
stmt:bind_values(mg.request_info.uri, 7)
local rc = stmt:step()
stmt:finalize()
mg.write("insert=", tostring(rc == sqlite3.DONE), " rowid=", tostring(db:last_insert_rowid() > 0), "\n")
local n = 0
stmt = db:prepare("SELECT * FROM hits ORDER BY id DESC;")
while stmt:step() == sqlite3.ROW do
  local v = stmt:get_values()
  if n == 0 then mg.write("first=", v[2], ",", v[3], " value0=", tostring(stmt:get_value(0) > 0), "\n") end
  n = n + 1
end
stmt:finalize()
mg.write("rows>0=", tostring(n > 0), "\n")
for r in db:nrows("SELECT uri, n FROM hits LIMIT 1") do mg.write("nrows=", r.uri, ",", r.n, "\n") end
for r in db:rows("SELECT 1, 'two'") do mg.write("rows=", r[1], ",", r[2], "\n") end
for a, b in db:urows("SELECT 3, 4") do mg.write("urows=", a, ",", b, "\n") end
local seen = {}
db:exec("SELECT 5 AS five", function(ud, ncols, values, names) seen[#seen + 1] = names[1] .. "=" .. values[1]; return 0 end)
mg.write("exec=", table.concat(seen), "\n")
mg.write("bad=", tostring(db:exec("SELEKT nonsense") ~= sqlite3.OK), " errmsg=", tostring(#db:errmsg() > 0), "\n")
local st2, c2 = db:prepare("SELEKT")
mg.write("prepare_bad=", tostring(st2), ",", tostring(c2 == sqlite3.ERROR), "\n")
local t0 = os.clock()
local st3 = db:prepare("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c;")
local rc3 = st3:step()
mg.write("runaway=", tostring(rc3 == sqlite3.INTERRUPT), "\n")
st3:finalize()
mg.write("close=", db:close(), "\n")
