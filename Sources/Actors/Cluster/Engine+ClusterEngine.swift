import ProxyARPCore

extension Engine: ClusterEngine {}
