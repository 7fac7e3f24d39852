print("coder-vm-bootstrap")
