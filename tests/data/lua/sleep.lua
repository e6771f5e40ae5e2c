mg.sleep(tonumber(mg.get_var(mg.request_info.query_string or "", "ms")) or 300)
mg.write("slept\n")
