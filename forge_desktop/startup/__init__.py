"""Autostart and service installation for Linux, Windows and macOS.

Every generator takes the target OS as a parameter and its folders as
arguments, so all three are produced and tested on any machine. The CLI calls
the four functions below, which act on the current OS:

    forge desktop --install-autostart    -> install_autostart()
    forge desktop --uninstall-autostart  -> uninstall_autostart()
    forge agent --install-service        -> install_service("agent", args)
    forge hub --install-service          -> install_service("hub", args)
                                            uninstall_service(kind)
"""
from forge_desktop.startup.artifacts import GeneratedFile, InstallError, RegistryValue, install
from forge_desktop.startup.autostart import autostart_files, install_autostart, uninstall_autostart
from forge_desktop.startup.host import current_os
from forge_desktop.startup.service import install_service, service_files, uninstall_service

__all__ = [
    "GeneratedFile", "RegistryValue", "InstallError", "install", "current_os",
    "autostart_files", "install_autostart", "uninstall_autostart",
    "service_files", "install_service", "uninstall_service",
]
