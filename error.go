package berth

import (
	"errors"
	"fmt"
)

// Code classifies an error. Each front end maps every code to its wire form
// in one table; the names follow ECR's exceptions, the richest vocabulary.
type Code string

// Error codes.
const (
	EInternal                 Code = "internal"
	EInvalidParameter         Code = "invalid_parameter"
	EInvalidTagParameter      Code = "invalid_tag_parameter"
	ETooManyTags              Code = "too_many_tags"
	ELimitExceeded            Code = "limit_exceeded"
	ERepositoryNotFound       Code = "repository_not_found"
	ERepositoryAlreadyExists  Code = "repository_already_exists"
	ERepositoryNotEmpty       Code = "repository_not_empty"
	EImageNotFound            Code = "image_not_found"
	EImageAlreadyExists       Code = "image_already_exists"
	EImageTagAlreadyExists    Code = "image_tag_already_exists"
	EImageDigestMismatch      Code = "image_digest_does_not_match"
	ELayersNotFound           Code = "layers_not_found"
	EReferencedImagesNotFound Code = "referenced_images_not_found"
	ELayerInaccessible        Code = "layer_inaccessible"
	EUploadNotFound           Code = "upload_not_found"
	EInvalidLayerPart         Code = "invalid_layer_part"
	EInvalidLayer             Code = "invalid_layer"
	ELayerPartTooSmall        Code = "layer_part_too_small"
	ELayerAlreadyExists       Code = "layer_already_exists"
	EEmptyUpload              Code = "empty_upload"
	ETemplateNotFound         Code = "template_not_found"
	ETemplateAlreadyExists    Code = "template_already_exists"
	// Lifecycle policies and their previews.
	ELifecyclePolicyNotFound    Code = "lifecycle_policy_not_found"
	ELifecyclePreviewInProgress Code = "lifecycle_preview_in_progress"
	ELifecyclePreviewNotFound   Code = "lifecycle_preview_not_found"
	// An archive or restore the image's state does not allow.
	EStorageClassUpdateNotSupported Code = "storage_class_update_not_supported"
	EUnauthenticated                Code = "unauthenticated"
	ERepositoryPolicyNotFound       Code = "repository_policy_not_found"
	ERegistryPolicyNotFound         Code = "registry_policy_not_found"
	// IAM's own: an entity that exists already or not at all, one that
	// cannot go while others hang off it, and a policy IAM refuses.
	EEntityAlreadyExists Code = "entity_already_exists"
	ENoSuchEntity        Code = "no_such_entity"
	EDeleteConflict      Code = "delete_conflict"
	EMalformedPolicy     Code = "malformed_policy"
	ETokenExpired        Code = "token_expired"
	EAccessDenied        Code = "access_denied"
	ENotFound            Code = "not_found"
	EConflict            Code = "conflict"
	// EUnavailable: the request could not be applied now (it kept losing
	// races with concurrent requests for the same data) and may be retried.
	EUnavailable Code = "unavailable"
	// EInsufficientStorage: the server's storage is full; nothing of the
	// request was kept, and it may succeed once space is freed.
	EInsufficientStorage Code = "insufficient_storage"
)

// StorageFullMessage is what a client is told when storage is full.
const StorageFullMessage = "The registry's storage is full (no space left on device): nothing of this request was kept. Free space on the server; pushes resume without a restart"

// Error is berth's domain error. Message is safe to show a client and says
// what to do; Err, if set, is the cause, for the log only.
type Error struct {
	Code    Code
	Message string
	// Field is the input member the error is about, as the ECR model
	// spells it ("imageTag", "imageDigest"), where there is one: a door
	// may answer (Code, Field) more precisely than Code alone.
	Field string
	Err   error
	// LastValidByte is set for EInvalidLayerPart: the offset of the last byte
	// of the upload that was received (-1 when none was).
	LastValidByte int64
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err: its own if it is (or wraps) an *Error,
// EInternal otherwise, "" for nil.
func ErrorCode(err error) Code {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EInternal
	}
}

// ErrorMessage returns the client-safe message of err.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "An internal error occurred; the server log has the details."
}

// ErrorField returns the Field of err's *Error, or "".
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// IsCode reports whether err carries the code.
func IsCode(err error, code Code) bool { return ErrorCode(err) == code }
