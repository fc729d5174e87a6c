//! Go's `net` helpers that kubeadm's output depends on, defined once.

/// Go's `net.JoinHostPort`: brackets around any host containing a colon (IPv6).
pub fn join_host_port(host: &str, port: impl std::fmt::Display) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn brackets_ipv6_only() {
        assert_eq!(super::join_host_port("10.0.0.1", 6443), "10.0.0.1:6443");
        assert_eq!(super::join_host_port("fd00::1", 6443), "[fd00::1]:6443");
        assert_eq!(
            super::join_host_port("lb.example.com", 443),
            "lb.example.com:443"
        );
    }
}
