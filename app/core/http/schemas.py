"""DeviceType and SessionDeviceInfo (HTTP-contract issue)."""
