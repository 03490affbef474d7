/*
 * scapi_compat.h -- the Siebel Adaptive Communications API (SCAPI) types, constants and
 * signatures, written from Oracle's published documentation (Siebel CTI Administration
 * Guide, "Developing a Communications Driver").  Oracle ships the real scapi.h only with
 * Siebel; this header lets the siebel_gateway shim be built and tested without it.  The shim
 * uses only the documented names and the *_Helper callback macros, so it compiles unchanged
 * against the real header (siebel-gateway shim build --scapi-h PATH).
 *
 * Facts not printed by Oracle and chosen here: the numeric type behind each handle, the
 * member names of ISC_CLIENT_INTERFACE (named like the client methods), ISC_BOOLEAN's type
 * and the ISCAPI export macro.
 */
#ifndef SCAPI_COMPAT_H
#define SCAPI_COMPAT_H

#include <time.h>

#ifdef __cplusplus
#define EXTERN_C extern "C"
#else
#define EXTERN_C
#endif

#ifndef ISCAPI
#if defined(_WIN32)
#define ISCAPI __declspec(dllexport)
#else
#define ISCAPI __attribute__((visibility("default")))
#endif
#endif

#define SCAPI_VERSION 2

/* 2-byte UTF-16 code units on every platform (never wchar_t, which is 4 bytes on Linux). */
typedef unsigned short ISC_CHAR;
typedef ISC_CHAR* ISC_STRING;
typedef long ISC_RESULT;
typedef int ISC_BOOLEAN;

typedef void* ISC_HANDLE;
typedef ISC_HANDLE ISC_DRIVER_HANDLE;
typedef ISC_HANDLE ISC_SERVICE_HANDLE;
typedef ISC_HANDLE ISC_CLIENT_HANDLE;

struct ISC_KeyValue {
    ISC_STRING paramName;
    ISC_STRING paramValue;
};

struct ISC_KVParamList {
    struct ISC_KeyValue* dataItems;
    long len;
};

struct ISC_StrParamList {
    ISC_STRING* dataItems;
    long len;
};

struct ISC_LongParamList {
    long* dataItems;
    long len;
};

enum SCCommandFlag {
    SC_CF_NOTSUPPORTED = 1,
    SC_CF_DISABLED = 2,
    SC_CF_CHECKED = 4,
    SC_CF_BLINKING = 8,
    SC_CF_NOPARAMSOK = 16,
    SC_CF_STRPARAMSOK = 32
};

enum SCCommandTypeEx {
    SC_CT_MAKECALL = 1,
    SC_CT_SENDMESSAGE = 2
};

enum SCErrorCode {
    SC_EC_OK = 0,
    SC_EC_ERROR = 1,
    SC_EC_CMD_NOT_SUPPORTED = 2,
    SC_EC_MEDIA_TYPE_NOT_SUPPORTED = 3,
    SC_EC_INVALID_HANDLE = 4,
    SC_EC_OUT_OF_MEMORY = 5,
    SC_EC_NETWORK_ERROR = 6,
    SC_EC_LIB_LOAD_ERR = 7,
    SC_EC_FUNC_NOT_RESOLVED = 8,
    SC_EC_DRIVER_CREATION_ERR = 9,
    SC_EC_DRIVER_RELEASE_ERR = 10,
    SC_EC_SERVICE_CREATION_ERR = 11,
    SC_EC_SERVICE_RELEASE_ERR = 12,
    SC_EC_INVALID_ITEM_TRACKING_ID = 13,
    SC_EC_CLIENT_INTERFACE_ERR = 14,
    SC_EC_SENDMSG_FAILED_RETRY = 15,
    SC_EC_IMPOBJ_CREATE_ERR = 16,
    SC_EC_INVALID_LICENSE = 17,
    SC_EC_WORK_ITEM_WRONG_STATE = 18,
    SC_EC_DRIVER_SPECIFIC = 1000
};

enum SCObjectProperty {
    SC_OP_ONOFF = 1,
    SC_OP_AGENTID = 2,
    SC_OP_ISNOTREADY = 4,
    SC_OP_ISBUSY = 5,
    SC_OP_DESCRIPTION = 7,
    SC_OP_TIMEINQUEUE = 9,
    SC_OP_QUEUEID = 12,
    SC_OP_ISLOGON = 13
};

enum SCWorkItemMode {
    SC_WM_INBOUND = 1,
    SC_WM_OUTBOUND = 2
};

/* The client interface Siebel passes (by value) to RequestService: its handle and one
 * function pointer per client method, each taking the client handle first. */
struct ISC_CLIENT_INTERFACE {
    ISC_CLIENT_HANDLE clientHandle;
    ISC_RESULT (*BeginBatch)(ISC_CLIENT_HANDLE handle);
    ISC_RESULT (*CacheCommandInformation)(ISC_CLIENT_HANDLE handle,
                                          const struct ISC_StrParamList* commandNames,
                                          const struct ISC_StrParamList* commandDescriptions,
                                          const struct ISC_LongParamList* commandStatuses);
    ISC_RESULT (*CleanAllWorkItem)(ISC_CLIENT_HANDLE handle);
    ISC_RESULT (*EndBatch)(ISC_CLIENT_HANDLE handle);
    ISC_RESULT (*HandleError)(ISC_CLIENT_HANDLE handle, const ISC_STRING clntCmdTrackID,
                              const ISC_STRING error);
    ISC_RESULT (*HandleEvent)(ISC_CLIENT_HANDLE handle, const ISC_STRING name,
                              const struct ISC_KVParamList* fields, ISC_BOOLEAN notifyWhenDone,
                              const ISC_STRING trackingID);
    ISC_RESULT (*IndicateNewWorkItem)(ISC_CLIENT_HANDLE handle, const ISC_STRING trackingID,
                                      const ISC_STRING oldTrackingID,
                                      const ISC_STRING description,
                                      enum SCWorkItemMode workItemMode);
    ISC_RESULT (*ShowStatusText)(ISC_CLIENT_HANDLE handle, const ISC_STRING text);
    ISC_RESULT (*UpdateObjectInformation)(ISC_CLIENT_HANDLE handle, const ISC_STRING trackingID,
                                          const ISC_STRING mediaTargetAddr,
                                          const struct ISC_KVParamList* datasetInfo);
    ISC_RESULT (*WorkItemStarted)(ISC_CLIENT_HANDLE handle, const ISC_STRING trackingID,
                                  const ISC_STRING oldTrackingID, const ISC_STRING description,
                                  const ISC_STRING mediaTargetAddr, time_t startTime);
    ISC_RESULT (*WorkItemReleased)(ISC_CLIENT_HANDLE handle, const ISC_STRING trackingID,
                                   time_t stopTime);
    ISC_RESULT (*WorkItemSuspended)(ISC_CLIENT_HANDLE handle, const ISC_STRING trackingID);
    ISC_RESULT (*WorkItemResumed)(ISC_CLIENT_HANDLE handle, const ISC_STRING trackingID);
};

/* Callbacks on a stored client interface value, without the client handle. */
#define BeginBatch_Helper(ci) ((ci).BeginBatch((ci).clientHandle))
#define EndBatch_Helper(ci) ((ci).EndBatch((ci).clientHandle))
#define CacheCommandInformation_Helper(ci, names, descriptions, statuses) \
    ((ci).CacheCommandInformation((ci).clientHandle, (names), (descriptions), (statuses)))
#define CleanAllWorkItem_Helper(ci) ((ci).CleanAllWorkItem((ci).clientHandle))
#define HandleError_Helper(ci, trackId, text) \
    ((ci).HandleError((ci).clientHandle, (trackId), (text)))
#define HandleEvent_Helper(ci, name, fields, notify, trackingId) \
    ((ci).HandleEvent((ci).clientHandle, (name), (fields), (notify), (trackingId)))
#define IndicateNewWorkItem_Helper(ci, trackingId, oldTrackingId, description, mode) \
    ((ci).IndicateNewWorkItem((ci).clientHandle, (trackingId), (oldTrackingId), \
                              (description), (mode)))
#define ShowStatusText_Helper(ci, text) ((ci).ShowStatusText((ci).clientHandle, (text)))
#define UpdateObjectInformation_Helper(ci, trackingId, mediaTargetAddr, info) \
    ((ci).UpdateObjectInformation((ci).clientHandle, (trackingId), (mediaTargetAddr), (info)))
#define WorkItemStarted_Helper(ci, trackingId, oldTrackingId, description, target, start) \
    ((ci).WorkItemStarted((ci).clientHandle, (trackingId), (oldTrackingId), (description), \
                          (target), (start)))
#define WorkItemReleased_Helper(ci, trackingId, stop) \
    ((ci).WorkItemReleased((ci).clientHandle, (trackingId), (stop)))
#define WorkItemSuspended_Helper(ci, trackingId) \
    ((ci).WorkItemSuspended((ci).clientHandle, (trackingId)))
#define WorkItemResumed_Helper(ci, trackingId) \
    ((ci).WorkItemResumed((ci).clientHandle, (trackingId)))

/* Driver handle methods (section 5 of reference/scapi.md). */
EXTERN_C ISCAPI long APIVersion(void);
EXTERN_C ISCAPI ISC_RESULT CreateISCDriverInstance(
    /* in */ const ISC_STRING mediaTypeStr, /* in */ const ISC_STRING languageCode,
    /* in */ const ISC_STRING connectString, /* in */ const struct ISC_KVParamList* datasetParams,
    /* out */ ISC_DRIVER_HANDLE* handle);
EXTERN_C ISCAPI ISC_RESULT RequestCommandEventList(
    /* in */ const ISC_STRING mediaTypeStr, /* out */ struct ISC_StrParamList* commandList,
    /* out */ struct ISC_StrParamList* eventList);
EXTERN_C ISCAPI void FreeSCStrParamList(/* in */ struct ISC_StrParamList strList);
EXTERN_C ISCAPI ISC_RESULT RequestService(
    /* in */ ISC_DRIVER_HANDLE handle, /* in */ const struct ISC_CLIENT_INTERFACE clntInterface,
    /* in */ const ISC_STRING connectString, /* in */ const struct ISC_KVParamList* datasetParams,
    /* out */ ISC_SERVICE_HANDLE* serviceHandle);
EXTERN_C ISCAPI ISC_RESULT ReleaseISCDriverInstance(/* in */ ISC_DRIVER_HANDLE handle);
EXTERN_C ISCAPI ISC_RESULT GetImplementationObject(/* in */ ISC_HANDLE key,
                                                   /* out */ ISC_HANDLE* impObj);

/* Service handle methods (section 6). */
EXTERN_C ISCAPI ISC_RESULT InvokeCommand(
    /* in */ ISC_SERVICE_HANDLE handle, /* in */ const ISC_STRING clntCmdTrackID,
    /* in */ const ISC_STRING name, /* in */ const ISC_STRING stringParam,
    /* in */ const struct ISC_KVParamList* datasetParam);
EXTERN_C ISCAPI ISC_RESULT InvokeCommandEx(
    /* in */ ISC_SERVICE_HANDLE handle, /* in */ const ISC_STRING clntCmdTrackID,
    /* in */ enum SCCommandTypeEx commandType, /* in */ const struct ISC_KVParamList* datasetParam);
EXTERN_C ISCAPI ISC_RESULT AcceptWorkItem(/* in */ ISC_SERVICE_HANDLE handle,
                                          /* in */ const ISC_STRING trackingID);
EXTERN_C ISCAPI ISC_RESULT HandleQueuedWorkItem(
    /* in */ ISC_SERVICE_HANDLE handle, /* in */ const ISC_STRING name,
    /* in */ const struct ISC_KVParamList* fields, /* in */ const ISC_STRING trackingID);
EXTERN_C ISCAPI ISC_RESULT NotifyEventHandlingFinished(
    /* in */ ISC_SERVICE_HANDLE handle, /* in */ const ISC_STRING trackingID,
    /* in */ ISC_BOOLEAN result);
EXTERN_C ISCAPI ISC_RESULT ReleaseWorkItem(/* in */ ISC_SERVICE_HANDLE handle,
                                           /* in */ const ISC_STRING trackingID);
EXTERN_C ISCAPI ISC_RESULT SuspendWorkItem(/* in */ ISC_SERVICE_HANDLE handle,
                                           /* in */ const ISC_STRING trackingID);
EXTERN_C ISCAPI ISC_RESULT ResumeWorkItem(/* in */ ISC_SERVICE_HANDLE handle,
                                          /* in */ const ISC_STRING trackingID);
EXTERN_C ISCAPI ISC_RESULT ReleaseISCServiceInstance(/* in */ ISC_SERVICE_HANDLE handle);

#endif /* SCAPI_COMPAT_H */
