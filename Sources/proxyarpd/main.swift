print("proxyarpd")
