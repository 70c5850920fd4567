# What `cmake --install` lays out and how `cpack -G DEB` packages it.
#
#   bin/pacerd, bin/pacer
#   etc/pacer/          pacer.conf, offers.csv, tokens (0640): the operator's
#                       (/etc/pacer when the prefix is /usr; conffiles in the .deb)
#   share/pacer/        the documented example config and data, extras
#   share/man/man{1,5,8}, share/doc/pacer
#   lib/systemd/system/pacerd.service, lib/sysusers.d/pacer.conf
#
# Paths inside pacer.conf are relative to its folder; the installed copy
# points scores and out_dir at the state directory (/var/lib/pacer).

set(PACER_SYSTEMD_UNIT_DIR "${CMAKE_INSTALL_PREFIX}/lib/systemd/system"
  CACHE PATH "where the systemd unit is installed")
set(PACER_SYSUSERS_DIR "${CMAKE_INSTALL_PREFIX}/lib/sysusers.d"
  CACHE PATH "where the systemd-sysusers file (the pacer user) is installed")
set(PACER_CONF_DIR "${CMAKE_INSTALL_FULL_SYSCONFDIR}/pacer")
# systemd's StateDirectory=pacer is always /var/lib/pacer, whatever the prefix.
set(PACER_STATE_DIR /var/lib/pacer CACHE PATH
  "scores and optimizer run folders of the installed pacer.conf")

# The installed pacer.conf: the example with the state directory's paths.
file(READ ${CMAKE_SOURCE_DIR}/conf/pacer.conf _conf)
string(REGEX REPLACE "\nscores = [^ \n]*" "\nscores = ${PACER_STATE_DIR}/scores.csv"
  _conf "${_conf}")
string(REGEX REPLACE "\nout_dir = [^ \n]*" "\nout_dir = ${PACER_STATE_DIR}/reports"
  _conf "${_conf}")
file(CONFIGURE OUTPUT ${CMAKE_BINARY_DIR}/conf/pacer.conf CONTENT "${_conf}"
  @ONLY)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
  ${CMAKE_SOURCE_DIR}/conf/pacer.conf)

if(SYSTEMD_FOUND)
  set(PACERD_SERVICE_TYPE notify)
else()
  set(PACERD_SERVICE_TYPE simple)
endif()
configure_file(${CMAKE_SOURCE_DIR}/conf/pacerd.service.in
  ${CMAKE_BINARY_DIR}/conf/pacerd.service @ONLY)

if(TARGET pacerd)
  install(TARGETS pacerd RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
if(TARGET pacer)
  install(TARGETS pacer RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
install(FILES ${CMAKE_BINARY_DIR}/conf/pacer.conf ${CMAKE_SOURCE_DIR}/conf/offers.csv
  DESTINATION ${PACER_CONF_DIR})
install(FILES ${CMAKE_SOURCE_DIR}/conf/tokens DESTINATION ${PACER_CONF_DIR}
  PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
install(FILES ${CMAKE_SOURCE_DIR}/conf/pacer.conf ${CMAKE_SOURCE_DIR}/conf/offers.csv
  ${CMAKE_SOURCE_DIR}/conf/tokens DESTINATION ${CMAKE_INSTALL_DATADIR}/pacer/examples)
# Extras other parts add under conf/share/ (OpenAPI document, dashboard,
# alert rules, client examples) land in share/pacer/ as they are.
if(EXISTS ${CMAKE_SOURCE_DIR}/conf/share)
  install(DIRECTORY ${CMAKE_SOURCE_DIR}/conf/share/
    DESTINATION ${CMAKE_INSTALL_DATADIR}/pacer USE_SOURCE_PERMISSIONS)
endif()
install(FILES ${CMAKE_SOURCE_DIR}/conf/man/pacer.1
  DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${CMAKE_SOURCE_DIR}/conf/man/pacer.conf.5
  DESTINATION ${CMAKE_INSTALL_MANDIR}/man5)
install(FILES ${CMAKE_SOURCE_DIR}/conf/man/pacerd.8
  DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES ${CMAKE_SOURCE_DIR}/README.md ${CMAKE_SOURCE_DIR}/LICENSE
  ${CMAKE_SOURCE_DIR}/CHANGELOG.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES ${CMAKE_BINARY_DIR}/conf/pacerd.service
  DESTINATION ${PACER_SYSTEMD_UNIT_DIR})
install(FILES ${CMAKE_SOURCE_DIR}/conf/pacer.sysusers
  DESTINATION ${PACER_SYSUSERS_DIR} RENAME pacer.conf)

# cpack -G DEB: configure with -DCMAKE_INSTALL_PREFIX=/usr so that the
# configuration lands in /etc/pacer (GNUInstallDirs) and the unit in
# /lib/systemd/system (-DPACER_SYSTEMD_UNIT_DIR=/lib/systemd/system).
set(CPACK_PACKAGE_NAME pacer)
set(CPACK_PACKAGE_VENDOR "pacer")
set(CPACK_PACKAGE_CONTACT "pacer maintainers <pacer@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "contact-frequency guardrail (pacerd) and offer optimizer (pacer)")
set(CPACK_RESOURCE_FILE_LICENSE ${CMAKE_SOURCE_DIR}/LICENSE)
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
# dpkg-shlibdeps names the runtime libraries the binaries link (libevent,
# hiredis, GLPK, jansson, inih, http-parser, libsystemd when linked).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "tzdata")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "redis-server")
configure_file(${CMAKE_SOURCE_DIR}/conf/debian/conffiles.in
  ${CMAKE_BINARY_DIR}/conf/debian/conffiles @ONLY)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${CMAKE_BINARY_DIR}/conf/debian/conffiles
  ${CMAKE_SOURCE_DIR}/conf/debian/postinst
  ${CMAKE_SOURCE_DIR}/conf/debian/prerm
  ${CMAKE_SOURCE_DIR}/conf/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
