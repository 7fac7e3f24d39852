print("coder-vm-seed")
