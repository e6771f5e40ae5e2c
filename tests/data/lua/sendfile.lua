mg.send_file(mg.document_root .. "/file.txt")
mg.write("ignored after send_file")
